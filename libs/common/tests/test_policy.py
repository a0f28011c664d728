"""The retry policy, table by table: what each failure leads to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from herald.errors import NeedsReauth, Permanent, PlatformError, Throttled, Transient, Unknown
from herald.policy import DeferUntil, GiveUp, RetryAt, RetryPolicy, decide, tier_for

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy()


def _decide(
    error: PlatformError, attempt: int, *, rand: float = 0.5, first: datetime | None = None
) -> object:
    return decide(
        error, attempt=attempt, now=NOW, first_failure_at=first, policy=POLICY, rand=lambda: rand
    )


@pytest.mark.parametrize(
    ("attempt", "rand", "delay_s", "tier", "next_attempt"),
    [
        (1, 0.5, 10.0, "10s", 2),
        (1, 0.0, 8.0, "10s", 2),  # -20 % jitter: shorter than the smallest tier, still that tier
        (1, 1.0, 12.0, "10s", 2),  # +20 %
        (2, 0.5, 60.0, "1m", 3),
        (2, 0.0, 48.0, "10s", 3),  # 48 s: the 10 s tier now, the rest by a further hop
        (3, 0.5, 600.0, "10m", 4),
        (3, 1.0, 720.0, "10m", 4),
    ],
)
def test_transient_failures_back_off_with_jitter(
    attempt: int, rand: float, delay_s: float, tier: str, next_attempt: int
) -> None:
    decision = _decide(Transient("503"), attempt, rand=rand)
    assert decision == RetryAt(NOW + timedelta(seconds=delay_s), tier, next_attempt)


def test_the_fourth_transient_failure_gives_up_to_the_dead_letter_topic() -> None:
    assert _decide(Transient("503"), 4) == GiveUp("gave up after 4 attempts", dead_letter=True)


@pytest.mark.parametrize(
    ("retry_after_s", "at_s", "tier"),
    [(None, 60.0, "1m"), (5.0, 5.0, "10s"), (3600.0, 3600.0, "1h"), (7200.0, 7200.0, "1h")],
)
def test_throttling_defers_without_using_an_attempt(
    retry_after_s: float | None, at_s: float, tier: str
) -> None:
    decision = _decide(Throttled("80001", retry_after_s=retry_after_s), 3)
    assert decision == DeferUntil(NOW + timedelta(seconds=at_s), tier, 3)


def test_throttling_past_the_deferral_budget_gives_up() -> None:
    first = NOW - timedelta(hours=47, minutes=30)
    decision = _decide(Throttled("quota", retry_after_s=3600), 1, first=first)
    assert decision == GiveUp("still throttled after 48 h of deferral", dead_letter=True)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (Permanent("invalid parameter", code="100"), "permanent error"),
        (NeedsReauth("token expired", code="190"), "needs_reauth error"),
        (Unknown("timed out after sending"), "unknown error"),
    ],
)
def test_other_categories_fail_at_once_without_a_dead_letter(
    error: PlatformError, reason: str
) -> None:
    assert _decide(error, 1) == GiveUp(reason, dead_letter=False)


@pytest.mark.parametrize(
    ("wait_s", "tier"),
    [
        (0.5, "10s"),
        (10, "10s"),
        (59, "10s"),
        (60, "1m"),
        (599, "1m"),
        (600, "10m"),
        (3599, "10m"),
        (3600, "1h"),
        (86400, "1h"),
    ],
)
def test_tier_for_a_wait_is_the_largest_tier_not_longer(wait_s: float, tier: str) -> None:
    assert tier_for(wait_s) == tier


def test_a_policy_without_enough_backoffs_is_refused() -> None:
    with pytest.raises(ValueError, match="backoff_s needs 4 delays"):
        RetryPolicy(max_attempts=5, backoff_s=(1, 2, 3))
