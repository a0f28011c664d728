"""TikTok's chunk rules as a table (content-posting media transfer guide)."""

from __future__ import annotations

import pytest

from platform_sandbox.settings import TikTokSettings
from platform_sandbox.tiktok.chunks import ChunkRange, parse_range, plan_problem, put_problem

pytestmark = pytest.mark.unit
MB = 1024 * 1024
LIMITS = TikTokSettings()


@pytest.mark.parametrize(
    ("video_size", "chunk_size", "total", "ok"),
    [
        (50_000_123, 10_000_000, 5, True),  # the guide's worked example
        (3 * MB, 3 * MB, 1, True),  # under 5 MB: whole
        (3 * MB, 1 * MB, 3, False),  # under 5 MB but chunked
        (100 * MB, 10 * MB, 10, True),
        (100 * MB, 10 * MB, 9, False),  # count is not floor(size / chunk)
        (100 * MB, 4 * MB, 25, False),  # chunk under 5 MB
        (200 * MB, 65 * MB, 3, False),  # chunk over 64 MB
        (70 * MB, 70 * MB, 1, False),  # over 64 MB must be chunked
        (127 * MB, 64 * MB, 1, True),  # the last chunk may reach 128 MB
        (129 * MB, 64 * MB, 2, True),
        (5 * 1024 * MB, 64 * MB, 80, False),  # over 4 GB
        (0, 0, 0, False),
    ],
)
def test_plan(video_size: int, chunk_size: int, total: int, ok: bool) -> None:
    assert (plan_problem(video_size, chunk_size, total, LIMITS) is None) is ok


def test_content_range_parsing() -> None:
    assert parse_range("bytes 0-9/100") == ChunkRange(0, 9, 100)
    assert parse_range("bytes 9-0/100") is None
    assert parse_range("bytes 0-100/100") is None
    assert parse_range("0-9/100") is None
    assert parse_range(None) is None


@pytest.mark.parametrize(
    ("rng", "received", "chunks_done", "expected"),
    [
        (ChunkRange(0, 9, 25), 0, 0, None),
        (ChunkRange(10, 24, 25), 10, 1, None),  # the last chunk carries the remainder
        (ChunkRange(10, 19, 25), 10, 1, 400),
        (ChunkRange(0, 9, 25), 10, 1, 416),  # a chunk sent again
        (ChunkRange(20, 24, 25), 10, 1, 416),  # a chunk skipped
        (ChunkRange(0, 9, 30), 0, 0, 400),  # another total
    ],
)
def test_put(rng: ChunkRange, received: int, chunks_done: int, expected: int | None) -> None:
    problem = put_problem(
        rng, received=received, chunks_done=chunks_done, video_size=25, chunk_size=10, total=2
    )
    assert (problem[0] if problem else None) == expected
