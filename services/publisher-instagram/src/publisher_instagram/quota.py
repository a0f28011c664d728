"""When an exhausted publishing quota frees a slot (platform-apis.md §2.2).

`content_publishing_limit` reports usage over a rolling window (default 24 h) and accepts
`since` (a unix time within the window) to count only publishes after it. A slot frees when
the oldest publish that keeps the usage at the limit leaves the window, so the earliest `since`
at which usage drops below the limit is found by bisection: `probes` reads narrow it to
`window / 2**probes` (about 6 minutes for 24 h and 8 probes). The bound is taken on the late
side, so the deferred post never comes back before a slot is free.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from herald.errors import Throttled
from herald.graph.errors import WAIT
from publisher_instagram.ports import Quota

UsageSince = Callable[[int], Awaitable[int]]


async def seconds_until_free(quota: Quota, now: int, usage_since: UsageSince, probes: int) -> int:
    """Seconds from `now` until the quota has a free slot."""
    low, high = now - quota.window_s, now  # usage(since=low) is at the limit, usage(high) is 0
    for _ in range(probes):
        if high - low <= 1:
            break
        middle = (low + high) // 2
        if await usage_since(middle) >= quota.total:
            low = middle
        else:
            high = middle
    # The publish that must leave the window happened before `high`; it leaves by high + window.
    return max(1, high + quota.window_s - now)


def exhausted(quota: Quota, retry_after_s: float) -> Throttled:
    return Throttled(
        f"Instagram's publishing quota is used up ({quota.usage} of {quota.total} posts in "
        f"{quota.window_s // 3600} h); the post waits until a slot frees",
        code="9",
        subcode="2207042",
        remediation=WAIT,
        retry_after_s=retry_after_s,
        evidence={"quota_usage": quota.usage, "quota_total": quota.total},
    )
