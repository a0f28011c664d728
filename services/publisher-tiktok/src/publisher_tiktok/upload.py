"""FILE_UPLOAD: stream the video from its source into TikTok's upload URL, chunk by chunk,
exactly as the chunk plan says, sequentially, with `Content-Range`.

Nothing is held whole: each chunk's body is drawn from the download as it is sent. After each
acknowledged chunk the byte count is checkpointed, so a later attempt (or another process)
resumes at the next chunk. A chunk that fails (5xx, network) is sent again from a fresh download
opened at the acknowledged offset (a `Range` request), up to `attempts` times in one attempt.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from herald.errors import Transient
from publisher_tiktok.domain import ChunkPlan
from publisher_tiktok.ports import MediaSource, TikTokApi

_VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
PIECE = 256 * 1024


class Pieces:
    """Exact-length bodies cut from a stream of arbitrary pieces."""

    def __init__(self, source: AsyncIterator[bytes]) -> None:
        self._source = source
        self._left = b""

    async def take(self, size: int) -> AsyncIterator[bytes]:
        while size > 0:
            if not self._left:
                try:
                    self._left = await anext(self._source)
                except StopAsyncIteration:
                    msg = "the media ended before its announced size"
                    raise Transient(msg, code="media_truncated") from None
            piece, self._left = self._left[:size], self._left[size:]
            size -= len(piece)
            yield piece


def content_type(*candidates: str | None) -> str:
    for candidate in candidates:
        if candidate and candidate.lower() in _VIDEO_TYPES:
            return candidate.lower()
    return "video/mp4"


@dataclass(frozen=True)
class Upload:
    url: str  # where the video is fetched from
    upload_url: str
    plan: ChunkPlan
    content_type: str


@dataclass
class Progress:
    acked: int


@dataclass
class Uploader:
    api: TikTokApi
    media: MediaSource
    attempts: int = 3

    async def run(self, job: Upload, acked: int, on_ack: Callable[[int], Awaitable[None]]) -> int:
        """Send every chunk from `acked` on; returns the bytes TikTok holds (all of them).
        `UploadGone` and `RangeRejected` pass through to the caller."""
        progress = Progress(acked)
        failures = 0
        while progress.acked < job.plan.video_size:
            try:
                await self._pass(job, progress, on_ack)
            except Transient:
                failures += 1
                if failures >= self.attempts:
                    raise
        return progress.acked

    async def _pass(
        self, job: Upload, progress: Progress, on_ack: Callable[[int], Awaitable[None]]
    ) -> None:
        plan = job.plan
        opened = self.media.open(job.url, offset=progress.acked, max_bytes=plan.video_size)
        async with opened as media:
            pieces = Pieces(media.iter_bytes(PIECE))
            while progress.acked < plan.video_size:
                first, last = plan.span(plan.index_at(progress.acked))
                await self.api.put_chunk(
                    job.upload_url,
                    pieces.take(last - first + 1),
                    first=first,
                    last=last,
                    total=plan.video_size,
                    content_type=job.content_type,
                )
                progress.acked = last + 1
                await on_ack(progress.acked)


def boundary(plan: ChunkPlan, held: int) -> int:
    """The start of the first chunk TikTok does not fully hold."""
    if held >= plan.video_size:
        return plan.video_size
    index = plan.index_at(held)
    first, last = plan.span(index)
    return last + 1 if held > last else first
