"""TikTok's insights for the shared insights job (herald.insights.collector, ADR 0003): the
Display API's `video/query` counters of one published post."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from herald.errors import Transient
from herald.insights import PublishedPost
from herald.runtime.ports import Credentials
from publisher_tiktok.ports import Limiter, TikTokApi

COUNTERS = ("view_count", "like_count", "comment_count", "share_count")


@dataclass(frozen=True)
class VideoInsights:
    api: TikTokApi
    limiter: Limiter

    async def read(self, credentials: Credentials, post: PublishedPost) -> dict[str, Any]:
        self.limiter.take(post.integration_id, "display")
        videos = await self.api.video_query(credentials.access_token, [post.platform_post_id])
        video = next((v for v in videos if str(v.get("id")) == post.platform_post_id), None)
        if video is None:
            raise Transient("TikTok does not list the post yet", code="video_not_listed")
        return {name: video.get(name) for name in COUNTERS}
