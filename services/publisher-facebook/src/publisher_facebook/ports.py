"""What the Facebook flow needs from outside: the Pages API, as a port (adapter:
`adapters.graph_pages.GraphPages`; tests: a hand-written fake Page)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class PagePost:
    """A post (or video) as the Page's recent list shows it."""

    id: str
    message: str | None
    link: str | None
    created_at: datetime | None
    permalink: str | None = None


@dataclass(frozen=True)
class VideoState:
    status: str  # processing, ready, error (Graph's status.video_status)
    post_id: str | None
    permalink: str | None
    progress: int = 0


class PagesApi(Protocol):
    async def create_post(
        self,
        token: str,
        page_id: str,
        *,
        message: str | None,
        link: str | None,
        attached: Sequence[str],
    ) -> str:
        """`POST /{page}/feed`; the new post's id."""
        ...

    async def upload_photo(
        self, token: str, page_id: str, *, url: str, alt_text: str | None
    ) -> str:
        """`POST /{page}/photos` with `published=false`: an invisible photo, its id."""
        ...

    async def publish_photo(
        self, token: str, page_id: str, *, url: str, caption: str | None, alt_text: str | None
    ) -> str:
        """`POST /{page}/photos`, published: the new post's id."""
        ...

    async def create_video(
        self, token: str, page_id: str, *, file_url: str, description: str | None, title: str | None
    ) -> str:
        """`POST /{page}/videos` with `file_url`: the video's id (processing goes on after)."""
        ...

    async def video(self, token: str, video_id: str) -> VideoState: ...

    async def recent_posts(self, token: str, page_id: str, *, limit: int) -> list[PagePost]: ...

    async def recent_videos(self, token: str, page_id: str, *, limit: int) -> list[PagePost]: ...

    async def insights(self, token: str, post_id: str, metrics: Sequence[str]) -> dict[str, Any]:
        """`GET /{post}/insights?metric=…`: metric name → value (a number or a breakdown)."""
        ...
