"""TikTok's per-token, per-minute limits, kept before calling (ADR 0005).

A sliding window per (integration, endpoint) in this process. That is enough because Kafka keys
every request by integration id: one integration's requests live in one partition, which one
consumer of this process owns at a time, so no other replica calls TikTok for that account. A
rebalance hands the partition over; the new owner starts with an empty window, the worst case
being one minute where both together exceed the limit, which TikTok answers with 429
(`Throttled`, deferred like this limiter's own refusals).
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable

from herald.errors import Throttled
from publisher_tiktok.settings import RateLimits

WINDOW_S = 60.0


class SlidingWindowLimiter:
    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = {
            "creator_info": limits.creator_info_per_minute,
            "init": limits.init_per_minute,
            "status": limits.status_per_minute,
            "display": limits.display_per_minute,
        }
        self._clock = clock
        self._calls: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def take(self, key: str, endpoint: str) -> None:
        now = self._clock()
        calls = self._calls[(key, endpoint)]
        while calls and calls[0] <= now - WINDOW_S:
            calls.popleft()
        limit = self._limits[endpoint]
        if len(calls) >= limit:
            wait = calls[0] + WINDOW_S - now
            raise Throttled(
                f"TikTok allows {limit} {endpoint} calls a minute per account; "
                f"the next is possible in {wait:.0f} s",
                code="rate_limit_local",
                retry_after_s=max(wait, 0.0),
            )
        calls.append(now)
