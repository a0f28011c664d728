"""One vocabulary over the platforms' metric names (docs/analytics.md, "Vocabulary").

Each common metric of a post type is read from one platform metric (or one key of a platform
breakdown), and that name is kept beside the figure. A metric the post type does not have is
absent with the platform's reason, never zero; so is one the platform did not answer (Graph
answers missing data with an empty list, not zeros: platform-apis.md §2.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herald.topics import Platform

COMMON = (
    "views",
    "reach",
    "reactions",
    "comments",
    "shares",
    "saves",
    "clicks",
    "interactions",
    "replies",
    "avg_watch_time_s",
)


@dataclass(frozen=True)
class Source:
    """Where a common metric comes from: a platform metric, or one key of its breakdown;
    `total` sums a breakdown (reactions by type); `scale` converts units (ms to s)."""

    metric: str
    key: str | None = None
    total: bool = False
    scale: float = 1.0

    @property
    def name(self) -> str:
        return self.metric if self.key is None else f"{self.metric}.{self.key}"


@dataclass(frozen=True)
class Figure:
    value: float
    platform_metric: str
    by_type: dict[str, float] | None = None


@dataclass(frozen=True)
class Translated:
    metrics: dict[str, Figure]
    absent: dict[str, str]


Row = Mapping[str, Source | str]  # common name -> where it comes from, or why it is absent

_FB_NONE = "Page post insights (platform-apis.md §1.3) have no"
FACEBOOK: Row = {
    "views": Source("post_media_view"),
    "reach": Source("post_total_media_view_unique"),
    "reactions": Source("post_reactions_by_type_total", total=True),
    "comments": Source("post_activity_by_action_type", key="comment"),
    "shares": Source("post_activity_by_action_type", key="share"),
    "saves": f"{_FB_NONE} saves metric",
    "clicks": Source("post_clicks"),
    "interactions": f"{_FB_NONE} total interactions metric; see reactions, comments, shares",
    "replies": f"{_FB_NONE} replies metric (replies are comments on Facebook)",
    "avg_watch_time_s": f"{_FB_NONE} average watch time metric",
}

_IG_FEED: dict[str, Source | str] = {
    "views": Source("views"),
    "reach": Source("reach"),
    "reactions": Source("likes"),
    "comments": Source("comments"),
    "shares": Source("shares"),
    "saves": Source("saved"),
    "clicks": "Instagram has no click metric for feed posts and reels (link_clicks: stories)",
    "interactions": Source("total_interactions"),
    "replies": "Instagram's replies metric is for stories only",
    "avg_watch_time_s": "Instagram's ig_reels_avg_watch_time is for reels only",
}
INSTAGRAM: Mapping[str, Row] = {
    "FEED": _IG_FEED,
    "REELS": {**_IG_FEED, "avg_watch_time_s": Source("ig_reels_avg_watch_time", scale=0.001)},
    "STORY": {
        **_IG_FEED,
        "reactions": "Instagram gives stories no likes metric",
        "comments": "Instagram stories take replies, not comments",
        "saves": "Instagram's saved metric is for feed posts and reels only",
        "clicks": "Instagram's link_clicks (stories with a link sticker) is not collected",
        "replies": Source("replies"),
    },
}
# Herald's post kinds as Instagram's media product types (a carousel is a FEED media).
IG_PRODUCT_TYPES = {"feed": "FEED", "carousel": "FEED", "reel": "REELS", "story": "STORY"}

_TT_NONE = "TikTok's video/query gives view, like, comment and share counts only"
TIKTOK: Row = {
    "views": Source("view_count"),
    "reach": _TT_NONE,
    "reactions": Source("like_count"),
    "comments": Source("comment_count"),
    "shares": Source("share_count"),
    "saves": _TT_NONE,
    "clicks": _TT_NONE,
    "interactions": _TT_NONE,
    "replies": _TT_NONE,
    "avg_watch_time_s": _TT_NONE,
}


def row_for(platform: Platform, kind: str | None) -> Row:
    """The vocabulary of one post type."""
    if platform is Platform.FACEBOOK:
        return FACEBOOK
    if platform is Platform.INSTAGRAM:
        return INSTAGRAM[IG_PRODUCT_TYPES.get(kind or "feed", "FEED")]
    if platform is Platform.TIKTOK:
        return TIKTOK
    msg = f"{platform.value} posts have no post insights"
    raise ValueError(msg)


def translate(platform: Platform, kind: str | None, raw: Mapping[str, Any]) -> Translated:
    """A snapshot's platform metrics in the common vocabulary, with every absence explained."""
    metrics: dict[str, Figure] = {}
    absent: dict[str, str] = {}
    for name, source in row_for(platform, kind).items():
        if isinstance(source, str):
            absent[name] = source
            continue
        figure = _figure(source, raw.get(source.metric))
        if figure is None:
            absent[name] = (
                f"{platform.value} answered no value for {source.metric} in this snapshot "
                "(missing data is left out, not counted as zero)"
            )
        else:
            metrics[name] = figure
    return Translated(metrics, absent)


def _figure(source: Source, value: Any) -> Figure | None:
    breakdown = source.key is not None or source.total
    if isinstance(value, int | float) and not isinstance(value, bool) and not breakdown:
        return Figure(value * source.scale, source.name)
    if not isinstance(value, Mapping) or not breakdown:
        return None  # nothing answered, or not the shape this metric has
    parts = {str(k): float(v) for k, v in value.items() if isinstance(v, int | float)}
    if source.total:
        return Figure(sum(parts.values()) * source.scale, source.name, by_type=parts)
    # A breakdown lists the action types that happened: a type it does not list had none.
    return Figure(parts.get(str(source.key), 0.0) * source.scale, source.name)
