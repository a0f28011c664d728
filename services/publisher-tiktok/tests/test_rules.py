"""Pure pieces: chunk plans at their boundaries, the fail_reason taxonomy, prefix matching,
webhook signatures and the rate limiter."""

from __future__ import annotations

import pytest

from herald.errors import NeedsReauth, Permanent, Throttled, Transient
from publisher_tiktok.adapters.limiter import SlidingWindowLimiter
from publisher_tiktok.domain import ChunkPlan, failed_publish, plan_chunks, under_prefix
from publisher_tiktok.settings import ChunkRules, RateLimits
from publisher_tiktok.signatures import BadSignature, sign, verify
from publisher_tiktok.upload import boundary

pytestmark = pytest.mark.unit
MB = 1_000_000
MIB = 1024 * 1024
RULES = ChunkRules()


@pytest.mark.parametrize(
    ("size", "chunk", "total"),
    [
        (3 * MB, 3 * MB, 1),  # under 5 MB: whole
        (5 * MIB - 1, 5 * MIB - 1, 1),
        (9_999_999, 9_999_999, 1),  # under the preferred chunk: whole, one chunk
        (10 * MB, 10 * MB, 1),
        (23 * MB, 10 * MB, 2),  # the last chunk takes 13 MB
        (50_000_123, 10 * MB, 5),  # the docs' worked example
        (4 * 1024 * MIB, 10 * MB, 429),
    ],
)
def test_chunk_plans_follow_tiktoks_rules(size: int, chunk: int, total: int) -> None:
    plan = plan_chunks(size, RULES)
    assert (plan.chunk_size, plan.total) == (chunk, total)
    assert plan.total == plan.video_size // plan.chunk_size
    final = plan.span(plan.total - 1)
    assert final[1] == size - 1
    assert final[1] - final[0] + 1 <= RULES.final_chunk_max_bytes
    if plan.total > 1:
        assert 5 * MIB <= plan.chunk_size <= 64 * MB


def test_a_plan_grows_its_chunks_to_stay_within_1000() -> None:
    plan = plan_chunks(4 * 1024 * MIB, ChunkRules(chunk_size_bytes=6 * MIB))
    assert plan.total <= 1000
    assert plan.chunk_size >= 6 * MIB


@pytest.mark.parametrize("size", [0, 4 * 1024 * MIB + 1])
def test_empty_or_oversized_videos_are_refused(size: int) -> None:
    with pytest.raises(Permanent):
        plan_chunks(size, RULES)


def test_chunk_rules_must_be_coherent() -> None:
    with pytest.raises(ValueError, match="chunk_size_bytes"):
        ChunkRules(chunk_size_bytes=MB)


def test_boundaries_round_down_to_whole_chunks() -> None:
    plan = ChunkPlan(9_000, 2_000, 4)
    assert [boundary(plan, held) for held in (0, 1_999, 2_000, 5_000, 8_999, 9_000)] == [
        0,
        0,
        2_000,
        4_000,
        6_000,
        9_000,
    ]


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("internal", Transient),
        ("video_pull_failed", Transient),
        ("photo_pull_failed", Transient),
        ("auth_removed", NeedsReauth),
        ("spam_risk_too_many_posts", Throttled),
        ("spam_risk_user_banned_from_posting", Permanent),
        ("spam_risk_text", Permanent),
        ("spam_risk", Permanent),
        ("publish_cancelled", Permanent),
        ("file_format_check_failed", Permanent),
        ("duration_check_failed", Permanent),
        ("frame_rate_check_failed", Permanent),
        ("picture_size_check_failed", Permanent),
        ("something_new", Permanent),
    ],
)
def test_fail_reasons_map_onto_the_taxonomy(reason: str, kind: type[Exception]) -> None:
    error = failed_publish(reason, daily_cap_s=86_400)
    assert type(error) is kind
    assert error.code == reason


@pytest.mark.parametrize(
    ("url", "inside"),
    [
        ("https://cdn.example.com/v/1.mp4", True),
        ("https://cdn.example.com", True),
        ("https://cdn.example.com.evil.net/v.mp4", False),
        ("https://media.example.org/tiktok/a.jpg", True),
        ("https://media.example.org/tiktokx/a.jpg", False),
        ("http://cdn.example.com/v.mp4", False),
    ],
)
def test_prefixes_match_at_path_boundaries(url: str, inside: bool) -> None:
    prefixes = ["https://cdn.example.com", "https://media.example.org/tiktok/"]
    assert under_prefix(url, prefixes) is inside


def test_a_signature_by_either_secret_within_tolerance_passes() -> None:
    body = b'{"event":"post.publish.complete"}'
    for secret in ("new", "old"):
        verify(sign(secret, body, 1_000), body, ["new", "old"], 1_100, 300)


@pytest.mark.parametrize(
    ("header", "now"),
    [
        (None, 1_000),
        ("garbage", 1_000),
        ("t=1000,s=00", 1_000),
        ("t=1000", 1_000),
        (sign("other", b"{}", 1_000), 1_000),
        (sign("new", b"{}", 1_000), 1_301),  # replayed after the tolerance
        (sign("new", b"{} ", 1_000), 1_000),  # another body
    ],
)
def test_bad_or_stale_signatures_are_refused(header: str | None, now: int) -> None:
    with pytest.raises(BadSignature):
        verify(header, b"{}", ["new", ""], now, 300)


def test_the_limiter_refuses_before_the_platform_would() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(RateLimits(init_per_minute=6), clock=lambda: now[0])
    for second in range(6):
        now[0] = second
        limiter.take("i1", "init")
    limiter.take("i2", "init")  # another account has its own window
    with pytest.raises(Throttled) as caught:
        limiter.take("i1", "init")
    assert caught.value.retry_after_s == pytest.approx(55.0)
    now[0] = 60.0
    limiter.take("i1", "init")  # the first call left the window
