"""Synthetic account-level figures: stable per account, metric and day, moving with the clock.

Account insights (a Page's, an Instagram account's, a TikTok creator's counts) are figures per
day. A daily figure (views, reach, engagements on one day) is a pseudo-random number derived
from the account, the metric and the day; a total (followers, likes) starts at the account's
configured figure on `EPOCH` and grows each day by a step of its own. Advancing the sandbox
clock by a day therefore adds one day of figures and raises every total, and two reads of the
same day agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from platform_sandbox.graph_errors import GraphError
from platform_sandbox.stats import base

DAY_S = 86_400
EPOCH = date(2026, 1, 1)  # totals start growing from this day
_EPOCH_DAY = (EPOCH - date(1970, 1, 1)).days


def day_of(ts: float) -> int:
    """The UTC day (days since 1970-01-01) that contains `ts`."""
    return int(ts // DAY_S)


def day_end(day: int) -> float:
    """When `day` ends: Graph's `end_time` of that day's value."""
    return float((day + 1) * DAY_S)


def daily(account_id: str, metric: str, day: int, *, scale: int = 1_000) -> int:
    """What `metric` of the account counted on `day` alone."""
    return base(account_id, f"{metric}:{day}", scale)


def step(account_id: str, metric: str) -> int:
    """How much the total `metric` of the account grows each day (10 to 49)."""
    return base(account_id, f"{metric}:step", 40)


def total(account_id: str, metric: str, day: int, start: int) -> int:
    """The total `metric` at the end of `day`: `start` on EPOCH plus one step a day since."""
    return start + step(account_id, metric) * max(0, day - _EPOCH_DAY)


def parse_time(raw: str | None) -> float | None:
    """Graph's `since` / `until`: a Unix time or an ISO 8601 date or time (UTC unless said)."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if text.lstrip("-").isdigit():
        return float(text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def days_between(
    since_raw: str | None, until_raw: str | None, now: float, *, max_days: int, default_days: int
) -> list[int]:
    """The days a Graph window answers: those whose end lies in `(since, until]` and is not
    later than now (a day is reported once it is over). Without `since`, the `default_days`
    before `until`; a window over `max_days` is error 100, as on Graph."""
    until = parse_time(until_raw)
    since = parse_time(since_raw)
    if until_raw and until is None:
        raise GraphError(100, f"Invalid parameter until: {until_raw!r} is not a time")
    if since_raw and since is None:
        raise GraphError(100, f"Invalid parameter since: {since_raw!r} is not a time")
    until = min(until if until is not None else now, now)
    since = since if since is not None else until - default_days * DAY_S
    if since >= until:
        raise GraphError(100, "since must be before until")
    if until - since > max_days * DAY_S:
        raise GraphError(
            100,
            f"There cannot be more than {max_days} days ({max_days * DAY_S} s) between since "
            "and until",
        )
    return [d for d in range(day_of(since), day_of(until) + 1) if since < day_end(d) <= until]
