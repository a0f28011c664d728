"""Rate-limit arithmetic shared by the platforms, as pure functions of the sandbox clock.

- `take`: a token bucket. WhatsApp throughput (N messages/s per number) and the pair rate
  (one message per 6 s, bursts borrowing future quota) are both buckets.
- `SlidingLog`: TikTok's "N requests per 1-minute sliding window" per token and endpoint, and
  daily caps counted over a moving 24 h.
- `RollingCount`: Graph's usage percentages over a rolling hour or day, counted in 60 slots so
  a busy sandbox does not keep one timestamp per call.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bucket:
    tokens: float
    updated: float


def take(
    bucket: Bucket | None, *, now: float, rate: float, capacity: float, cost: float = 1.0
) -> tuple[Bucket, bool]:
    """Refill `bucket` at `rate` per second up to `capacity`, then try to spend `cost`."""
    if bucket is None:
        tokens = capacity
    else:
        tokens = min(capacity, bucket.tokens + max(0.0, now - bucket.updated) * rate)
    if tokens >= cost:
        return Bucket(tokens - cost, now), True
    return Bucket(tokens, now), False


@dataclass
class SlidingLog:
    """Times of past events per key, kept only as long as the longest window asked about."""

    _events: dict[Hashable, deque[float]] = field(default_factory=dict)

    def count(self, key: Hashable, *, now: float, window_s: float) -> int:
        events = self._events.get(key)
        if not events:
            return 0
        while events and events[0] <= now - window_s:
            events.popleft()
        return len(events)

    def allow(self, key: Hashable, *, now: float, limit: int, window_s: float) -> bool:
        """Record an event unless `limit` events already happened within `window_s`."""
        if self.count(key, now=now, window_s=window_s) >= limit:
            return False
        self.record(key, now=now)
        return True

    def record(self, key: Hashable, *, now: float) -> None:
        self._events.setdefault(key, deque()).append(now)


@dataclass
class RollingCount:
    """Events per key over a rolling window, in `slots` equal slots, with a running total so a
    count costs the same however busy the key is."""

    window_s: float
    slots: int = 60
    _counts: dict[Hashable, deque[list[int]]] = field(default_factory=dict)  # [slot, count]
    _totals: dict[Hashable, int] = field(default_factory=dict)

    def _slot(self, now: float) -> int:
        return int(now // (self.window_s / self.slots))

    def _expire(self, key: Hashable, slot: int) -> deque[list[int]]:
        counts = self._counts.setdefault(key, deque())
        while counts and counts[0][0] <= slot - self.slots:
            self._totals[key] -= counts.popleft()[1]
        return counts

    def add(self, key: Hashable, *, now: float, amount: int = 1) -> int:
        slot = self._slot(now)
        counts = self._expire(key, slot)
        if counts and counts[-1][0] == slot:
            counts[-1][1] += amount
        else:
            counts.append([slot, amount])
        self._totals[key] = self._totals.get(key, 0) + amount
        return self._totals[key]

    def total(self, key: Hashable, *, now: float) -> int:
        if key not in self._counts:
            return 0
        self._expire(key, self._slot(now))
        return self._totals.get(key, 0)
