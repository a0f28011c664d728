"""What the TikTok flow needs from outside: TikTok's API, the media source, the rate limiter,
and the store of what webhooks and follow-ups learn. Adapters implement these; tests fake them."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Initialised:
    publish_id: str
    upload_url: str | None = None


@dataclass(frozen=True)
class PublishStatus:
    status: str
    fail_reason: str | None = None
    post_ids: list[str] = field(default_factory=list)
    uploaded_bytes: int | None = None


class UploadGone(Exception):
    """The upload URL expired or its task is gone (403/404): a new init is needed."""


class RangeRejected(Exception):
    """416: the chunk is not the one TikTok expects next; its status says where it stands."""


class TikTokApi(Protocol):
    async def creator_info(self, token: str) -> dict[str, Any]: ...

    async def init_video(
        self, token: str, *, inbox: bool, post_info: dict[str, Any], source_info: dict[str, Any]
    ) -> Initialised: ...

    async def init_photo(
        self, token: str, *, inbox: bool, post_info: dict[str, Any], source_info: dict[str, Any]
    ) -> Initialised: ...

    async def status(self, token: str, publish_id: str) -> PublishStatus: ...

    async def put_chunk(
        self,
        upload_url: str,
        body: AsyncIterable[bytes],
        *,
        first: int,
        last: int,
        total: int,
        content_type: str,
    ) -> int:
        """Send one chunk; the bytes TikTok now holds. Raises `UploadGone`, `RangeRejected`,
        or a `herald.errors` class."""
        ...

    async def video_query(self, token: str, video_ids: list[str]) -> list[dict[str, Any]]: ...

    async def video_list(self, token: str, *, fields: str, max_count: int) -> list[dict[str, Any]]:
        """The token owner's newest videos (`POST /v2/video/list/`), newest first."""
        ...

    async def user_info(self, token: str, fields: list[str]) -> dict[str, Any]:
        """The Display API's `user/info` with these `fields` (each gated by a scope)."""
        ...


class Media(Protocol):
    """An open download (`herald.media.MediaStream`)."""

    size: int | None
    content_type: str | None

    def iter_bytes(self, chunk_size: int = ...) -> AsyncIterator[bytes]: ...


class MediaSource(Protocol):
    """Opens media by URL (`herald.media.MediaFetcher`)."""

    def open(
        self, url: str, *, max_bytes: int | None = None, offset: int = 0
    ) -> AbstractAsyncContextManager[Media]: ...


class Limiter(Protocol):
    def take(self, key: str, endpoint: str) -> None:
        """Count a call now, or raise `Throttled` saying when one is allowed again."""
        ...


class Outcomes(Protocol):
    """What TikTok's webhooks said about publish ids."""

    async def learned(self, publish_id: str) -> PublishStatus | None:
        """The final state a webhook reported for `publish_id`, if one did."""
        ...
