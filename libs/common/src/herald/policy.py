"""The retry policy as data, and the pure function that decides what a failure leads to.

Default (the ancestor's "3 attempts with exponential backoff", made explicit): 4 attempts in all,
backoff 10 s, 1 min, 10 min with ±20 % jitter, then the dead-letter topic and a final
`post.failed`. Throttling defers without using up attempts, bounded by `max_deferral_s` since the
first failure. Delays travel through fixed delay tiers (ADR 0004); `tier_for`
picks the tier for a wait so that a tier's messages stay due in the order they arrive.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from herald.errors import ErrorCategory, PlatformError
from herald.topics import DELAY_TIERS


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 4
    backoff_s: tuple[float, ...] = (10.0, 60.0, 600.0)
    jitter: float = 0.2
    default_throttle_s: float = 60.0
    max_deferral_s: float = 48 * 3600.0
    tiers: Mapping[str, int] = field(default_factory=lambda: dict(DELAY_TIERS))

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            msg = "max_attempts must be at least 1"
            raise ValueError(msg)
        if len(self.backoff_s) < self.max_attempts - 1:
            msg = f"backoff_s needs {self.max_attempts - 1} delays for {self.max_attempts} attempts"
            raise ValueError(msg)
        if not 0 <= self.jitter < 1:
            msg = "jitter must be in [0, 1)"
            raise ValueError(msg)
        if not self.tiers:
            msg = "at least one delay tier is needed"
            raise ValueError(msg)


@dataclass(frozen=True)
class RetryAt:
    """Try again at `at` (the next attempt is `attempt`), through delay tier `tier`."""

    at: datetime
    tier: str
    attempt: int


@dataclass(frozen=True)
class DeferUntil:
    """Capacity is back at `at`; the same attempt runs then."""

    at: datetime
    tier: str
    attempt: int


@dataclass(frozen=True)
class GiveUp:
    """A final failure; `dead_letter` when the event itself should be parked for replay."""

    reason: str
    dead_letter: bool


Decision = RetryAt | DeferUntil | GiveUp


def tier_for(wait_s: float, tiers: Mapping[str, int] = DELAY_TIERS) -> str:
    """The largest tier not longer than the wait (the smallest tier for shorter waits).

    Every message in a tier is then due no earlier than its arrival plus the tier's delay, so the
    head of a partition is always the next one due; what remains of a longer wait is served by
    further hops.
    """
    ordered = sorted(tiers.items(), key=lambda item: item[1])
    chosen = ordered[0][0]
    for name, delay in ordered:
        if delay <= wait_s:
            chosen = name
    return chosen


def decide(
    error: PlatformError,
    *,
    attempt: int,
    now: datetime,
    first_failure_at: datetime | None,
    policy: RetryPolicy,
    rand: Callable[[], float] = random.random,
) -> Decision:
    """What happens after `attempt` failed with `error`."""
    category = error.category
    if category is ErrorCategory.TRANSIENT:
        if attempt >= policy.max_attempts:
            return GiveUp(f"gave up after {attempt} attempts", dead_letter=True)
        base = policy.backoff_s[attempt - 1]
        delay = base * (1 + policy.jitter * (2 * rand() - 1))
        return RetryAt(now + timedelta(seconds=delay), tier_for(delay, policy.tiers), attempt + 1)
    if category is ErrorCategory.THROTTLED:
        wait = error.retry_after_s if error.retry_after_s is not None else policy.default_throttle_s
        at = now + timedelta(seconds=max(wait, 0.0))
        started = first_failure_at or now
        if (at - started).total_seconds() > policy.max_deferral_s:
            hours = policy.max_deferral_s / 3600
            return GiveUp(f"still throttled after {hours:g} h of deferral", dead_letter=True)
        return DeferUntil(at, tier_for(wait, policy.tiers), attempt)
    return GiveUp(f"{category.value} error", dead_letter=False)


def may_wait(
    now: datetime, until: datetime, first_failure_at: datetime | None, policy: RetryPolicy
) -> bool:
    """Whether a planned wait (platform processing) still fits in the deferral budget."""
    started = first_failure_at or now
    return (until - started).total_seconds() <= policy.max_deferral_s
