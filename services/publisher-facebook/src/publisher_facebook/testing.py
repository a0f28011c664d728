"""For tests: a hand-written fake Page behind the `PagesApi` port. It keeps what was
published, records every call with the checkpoint step the flow had saved by then, and fails on
request, before doing the work or after it (the ambiguous case)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from herald.runtime.ports import Checkpoint
from publisher_facebook.ports import PagePost, VideoState


@dataclass
class FakePage:
    page_id: str = "page-1"
    posts: list[PagePost] = field(default_factory=list)
    photos: dict[str, bool] = field(default_factory=dict)  # id → published
    videos: dict[str, str] = field(default_factory=dict)  # id → status
    calls: list[tuple[str, str | None]] = field(default_factory=list)
    fail_before: dict[str, list[Exception]] = field(default_factory=dict)
    fail_after: dict[str, list[Exception]] = field(default_factory=dict)
    fail_on_call: dict[str, tuple[int, Exception]] = field(default_factory=dict)
    checkpoint: Checkpoint | None = None
    videos_readable: bool = True
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))

    def _enter(self, op: str) -> None:
        self.calls.append((op, self.checkpoint.step if self.checkpoint else None))
        nth = self.fail_on_call.get(op)
        if nth is not None and len(self.ops(op)) == nth[0]:
            raise nth[1]
        pending = self.fail_before.get(op)
        if pending:
            raise pending.pop(0)

    def _leave(self, op: str) -> None:
        pending = self.fail_after.get(op)
        if pending:
            raise pending.pop(0)

    def _post(self, message: str | None, link: str | None) -> str:
        post_id = f"{self.page_id}_{next(self._ids)}"
        self.posts.insert(0, PagePost(post_id, message, link, datetime.now(UTC), None))
        return post_id

    def ops(self, name: str) -> list[str | None]:
        """The checkpoint step in force at each call of `name`."""
        return [step for op, step in self.calls if op == name]

    async def create_post(
        self,
        token: str,
        page_id: str,
        *,
        message: str | None,
        link: str | None,
        attached: Sequence[str],
    ) -> str:
        self._enter("create_post")
        for photo in attached:
            assert self.photos[photo] is False, "a photo can be attached once"
            self.photos[photo] = True
        post_id = self._post(message, link)
        self._leave("create_post")
        return post_id

    async def upload_photo(
        self, token: str, page_id: str, *, url: str, alt_text: str | None
    ) -> str:
        self._enter("upload_photo")
        photo_id = f"photo-{next(self._ids)}"
        self.photos[photo_id] = False
        self._leave("upload_photo")
        return photo_id

    async def publish_photo(
        self, token: str, page_id: str, *, url: str, caption: str | None, alt_text: str | None
    ) -> str:
        self._enter("publish_photo")
        post_id = self._post(caption, None)
        self._leave("publish_photo")
        return post_id

    async def create_video(
        self, token: str, page_id: str, *, file_url: str, description: str | None, title: str | None
    ) -> str:
        self._enter("create_video")
        video_id = f"video-{next(self._ids)}"
        self.videos[video_id] = "processing"
        self.posts.insert(0, PagePost(video_id, description, None, datetime.now(UTC)))
        self._leave("create_video")
        return video_id

    async def video(self, token: str, video_id: str) -> VideoState:
        self._enter("video")
        status = self.videos[video_id]
        return VideoState(
            status, f"{self.page_id}_{video_id}", f"/{self.page_id}/videos/{video_id}/"
        )

    async def recent_posts(self, token: str, page_id: str, *, limit: int) -> list[PagePost]:
        self._enter("recent_posts")
        return [p for p in self.posts if p.id not in self.videos][:limit]

    async def recent_videos(self, token: str, page_id: str, *, limit: int) -> list[PagePost]:
        self._enter("recent_videos")
        return [p for p in self.posts if p.id in self.videos][:limit]

    async def insights(self, token: str, post_id: str, metrics: Sequence[str]) -> dict[str, Any]:
        self._enter("insights")
        return dict.fromkeys(metrics, 3)

    @property
    def visible(self) -> list[PagePost]:
        return list(self.posts)
