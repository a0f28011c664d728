"""Which insights a Page post gets, with the metric names Graph still accepts (platform-apis.md
§1.3: the `post_impressions*` family was removed in 2025; `post_media_view` replaced it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from herald.insights import PublishedPost
from herald.runtime.ports import Credentials
from publisher_facebook.ports import PagesApi

POST_METRICS = (
    "post_media_view",
    "post_total_media_view_unique",
    "post_reactions_by_type_total",
    "post_clicks",
    "post_activity_by_action_type",
)


@dataclass(frozen=True)
class PageInsights:
    """The `InsightsReader` of Page posts."""

    pages: PagesApi
    metrics: tuple[str, ...] = POST_METRICS

    async def read(self, credentials: Credentials, post: PublishedPost) -> dict[str, Any]:
        return await self.pages.insights(
            credentials.access_token, post.platform_post_id, self.metrics
        )
