"""One vocabulary over the platforms' account metric names (docs/analytics.md, "Account
vocabulary"): each common metric of a platform reads one platform metric, returned beside the
figure, or is absent with the reason the platform has no such figure. A metric the platform left
out of a day is absent with that said; nothing absent is ever 0."""

from __future__ import annotations

from dataclasses import dataclass

from herald.topics import Platform

_PAGE = "Page insights (platform-apis.md §1.3)"
_IG = "Instagram account insights (platform-apis.md §2.3)"
_TT = (
    "TikTok's user/info (platform-apis.md §4.3) gives follower, following, like and video "
    "counts only"
)

# common name -> platform -> the platform metric, or why the platform has none (a str starting
# with "absent:" is a reason).
ACCOUNT_VOCABULARY: dict[str, dict[Platform, str]] = {
    "followers": {
        Platform.FACEBOOK: "page_follows",
        Platform.INSTAGRAM: "followers_count",
        Platform.TIKTOK: "follower_count",
    },
    "new_followers": {
        Platform.FACEBOOK: (
            f"absent:{_PAGE}: the follower total (page_follows) is collected, not a day's new "
            "follows"
        ),
        Platform.INSTAGRAM: "follower_count",
        Platform.TIKTOK: f"absent:{_TT}, not a day's new followers",
    },
    "following": {
        Platform.FACEBOOK: f"absent:{_PAGE} have no following count",
        Platform.INSTAGRAM: f"absent:{_IG} have no following count",
        Platform.TIKTOK: "following_count",
    },
    "views": {
        Platform.FACEBOOK: "page_media_view",
        Platform.INSTAGRAM: "views",
        Platform.TIKTOK: f"absent:{_TT}; views are per video (post analytics)",
    },
    "reach": {
        Platform.FACEBOOK: "page_total_media_view_unique",
        Platform.INSTAGRAM: "reach",
        Platform.TIKTOK: f"absent:{_TT}",
    },
    "interactions": {
        Platform.FACEBOOK: "page_post_engagements",
        Platform.INSTAGRAM: "total_interactions",
        Platform.TIKTOK: f"absent:{_TT}",
    },
    "accounts_engaged": {
        Platform.FACEBOOK: f"absent:{_PAGE} have no engaged accounts metric since 2024",
        Platform.INSTAGRAM: "accounts_engaged",
        Platform.TIKTOK: f"absent:{_TT}",
    },
    "profile_visits": {
        Platform.FACEBOOK: "page_views_total",
        Platform.INSTAGRAM: "profile_views",
        Platform.TIKTOK: f"absent:{_TT}",
    },
    "likes": {
        Platform.FACEBOOK: f"absent:{_PAGE}: reactions are per post (post analytics)",
        Platform.INSTAGRAM: "likes",
        Platform.TIKTOK: "likes_count",
    },
    "comments": {
        Platform.FACEBOOK: f"absent:{_PAGE}: comments are per post (post analytics)",
        Platform.INSTAGRAM: "comments",
        Platform.TIKTOK: f"absent:{_TT}",
    },
    "shares": {
        Platform.FACEBOOK: f"absent:{_PAGE}: shares are per post (post analytics)",
        Platform.INSTAGRAM: "shares",
        Platform.TIKTOK: f"absent:{_TT}",
    },
    "saves": {
        Platform.FACEBOOK: f"absent:{_PAGE} have no saves metric",
        Platform.INSTAGRAM: "saves",
        Platform.TIKTOK: f"absent:{_TT}",
    },
    "videos": {
        Platform.FACEBOOK: f"absent:{_PAGE} have no video count",
        Platform.INSTAGRAM: f"absent:{_IG} have no media count",
        Platform.TIKTOK: "video_count",
    },
}


@dataclass(frozen=True)
class AccountFigure:
    value: float
    platform_metric: str


@dataclass(frozen=True)
class TranslatedDay:
    metrics: dict[str, AccountFigure]
    absent: dict[str, str]


def translate_account(platform: Platform, figures: dict[str, float]) -> TranslatedDay:
    """A day's platform figures in the common vocabulary. For a platform without account
    insights (WhatsApp) every metric is absent with that reason."""
    metrics: dict[str, AccountFigure] = {}
    absent: dict[str, str] = {}
    for name, by_platform in ACCOUNT_VOCABULARY.items():
        source = by_platform.get(platform)
        if source is None:
            absent[name] = f"{platform.value} has no account insights"
        elif source.startswith("absent:"):
            absent[name] = source.removeprefix("absent:")
        elif source in figures:
            metrics[name] = AccountFigure(figures[source], source)
        else:
            absent[name] = f"{platform.value} answered no value for `{source}` on this day"
    return TranslatedDay(metrics, absent)
