"""Which insights an Instagram media gets: the metric names current since v22 (platform-apis.md
§2.3; `impressions`, `plays` and `video_views` are gone), chosen by product type, because
asking a story for `likes` or a feed post for `navigation` is an error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from herald.insights import PublishedPost
from herald.runtime.ports import Credentials
from publisher_instagram.ports import InstagramApi

METRICS: dict[str, tuple[str, ...]] = {
    "FEED": ("views", "reach", "likes", "comments", "saved", "shares", "total_interactions"),
    "REELS": (
        "views",
        "reach",
        "likes",
        "comments",
        "saved",
        "shares",
        "total_interactions",
        "ig_reels_avg_watch_time",
    ),
    "STORY": ("views", "reach", "shares", "total_interactions", "replies"),
}


@dataclass(frozen=True)
class MediaInsights:
    """The `InsightsReader` of Instagram media."""

    api: InstagramApi
    by_login: Mapping[str, InstagramApi] = field(default_factory=dict)

    async def read(self, credentials: Credentials, post: PublishedPost) -> dict[str, Any]:
        api = self.by_login.get(credentials.account.get("login", ""), self.api)
        token = credentials.access_token
        media = await api.media(token, post.platform_post_id)
        metrics = METRICS.get(media.product_type or "FEED", METRICS["FEED"])
        return await api.insights(token, post.platform_post_id, metrics)
