"""When a delay-tier message may run: a pure function of the clock and the message.

A tier holds a message until `min(due, arrival + tier delay)`. Every message in a tier waits at
least the tier's delay unless it is due sooner, so the head of a partition is always the next one
due and pausing at it never delays a message that is already due. A message whose due time is
still ahead after its tier's delay goes on to the tier that fits the rest of its wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Scheduling slack: a message this close to due is run now rather than held again.
EPSILON = timedelta(milliseconds=20)


@dataclass(frozen=True)
class Hold:
    until: datetime


@dataclass(frozen=True)
class Reroute:
    remaining_s: float


@dataclass(frozen=True)
class Run:
    pass


def hold_decision(
    now: datetime, arrived: datetime, tier_delay_s: float, due_at: datetime | None
) -> Hold | Reroute | Run:
    tier_end = arrived + timedelta(seconds=tier_delay_s)
    release = tier_end if due_at is None else min(due_at, tier_end)
    if now + EPSILON < release:
        return Hold(release)
    if due_at is not None and now + EPSILON < due_at:
        return Reroute((due_at - now).total_seconds())
    return Run()
