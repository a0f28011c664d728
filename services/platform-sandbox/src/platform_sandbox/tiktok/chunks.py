"""TikTok's FILE_UPLOAD chunk rules, as pure functions (content-posting media transfer guide):

- `total_chunk_count` = floor(video_size / chunk_size);
- each chunk 5 to 64 MB, except the last, which absorbs the remainder and may reach 128 MB;
- a video under 5 MB goes whole (`chunk_size` = `video_size`), one over 64 MB must be chunked;
- 1 to 1000 chunks, uploaded in order.

A `PUT` answers 206 (more expected), 201 (all parts in), 400 (bad headers or length), 403 (the
upload URL expired), 404 (no such upload) or 416 (range not the next one expected). MB here are
MiB by default (strictest reading); all bounds are settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from platform_sandbox.settings import TikTokSettings

_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


def plan_problem(
    video_size: int, chunk_size: int, total: int, limits: TikTokSettings
) -> str | None:
    """Why an init's `source_info` breaks the chunk rules, or None."""
    if video_size <= 0 or chunk_size <= 0 or total <= 0:
        return "video_size, chunk_size and total_chunk_count must be positive"
    checks = [(video_size > limits.video_max_bytes, "video_size is larger than the 4 GB limit")]
    if video_size < limits.chunk_min_bytes:
        whole = chunk_size == video_size and total == 1
        checks.append(
            (not whole, "a video under 5 MB goes whole: chunk_size = video_size, 1 chunk")
        )
    else:
        final = video_size - (total - 1) * chunk_size
        checks += [
            (
                not limits.chunk_min_bytes <= chunk_size <= limits.chunk_max_bytes,
                "chunk_size must be between 5 MB and 64 MB",
            ),
            (
                total != video_size // chunk_size,
                "total_chunk_count must equal floor(video_size / chunk_size)",
            ),
            (not 1 <= total <= limits.max_chunks, "total_chunk_count must be between 1 and 1000"),
            (final > limits.final_chunk_max_bytes, "the final chunk would be larger than 128 MB"),
        ]
    return next((message for failed, message in checks if failed), None)


@dataclass(frozen=True)
class ChunkRange:
    first: int
    last: int
    total: int


def parse_range(header: str | None) -> ChunkRange | None:
    match = _RANGE.match((header or "").strip())
    if match is None:
        return None
    first, last, total = (int(g) for g in match.groups())
    return ChunkRange(first, last, total) if first <= last < total else None


def expected_length(index: int, video_size: int, chunk_size: int, total: int) -> int:
    """Bytes chunk `index` (0-based) must carry: chunk_size, or the remainder for the last."""
    return video_size - chunk_size * (total - 1) if index == total - 1 else chunk_size


def put_problem(
    rng: ChunkRange,
    *,
    received: int,
    chunks_done: int,
    video_size: int,
    chunk_size: int,
    total: int,
) -> tuple[int, str] | None:
    """The status and reason a chunk is refused with, or None when it is the expected one."""
    if rng.total != video_size:
        return 400, "Content-Range total does not match video_size"
    if rng.first != received:
        return 416, f"expected the chunk starting at byte {received}"
    length = rng.last - rng.first + 1
    if length != expected_length(chunks_done, video_size, chunk_size, total):
        return 400, "the chunk length breaks the chunk_size given at init"
    return None
