"""Pacing per phone number: a token bucket in its GCRA form (ADR 0007, WhatsApp batches and pace).

Each number has a theoretical arrival time `tat`; a send takes the slot `max(tat, now)` and moves
`tat` on by one interval (1 / rate). A slot more than `tolerance` ahead of now is waited for; the
tolerance is the bucket's depth, so an idle number may send `burst` messages at once and never
catches up on time it did not use. A slot is taken when it is due, not reserved while waiting,
so a process that was busy for a while does not send the slots it missed in a burst; concurrent
sends of one number share its rate and never exceed it.

The rate is `target_ratio` of the number's throughput and the depth `burst_ratio` of it (at least
one message): in any one-second window at most rate + depth messages start (a sender up to one
interval late keeps its slot, so starts may lag their slots by that much), at least one below
the limit (so a message delayed on its way cannot push a second over it).
A 130429 answer pauses the number (`pause`) for what the platform says, or a default.

The bucket lives in the process: one consumer owns a number at a time because requests are keyed
by integration id (one per number); the ADR says what a rebalance does to that.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from publisher_whatsapp.ports import SendObserver


@dataclass
class Gcra:
    interval_s: float
    tolerance_s: float
    tat: float = 0.0

    @classmethod
    def for_rate(cls, rate: float, burst: int) -> Gcra:
        interval = 1.0 / rate
        return cls(interval, (max(burst, 1) - 1) * interval)

    def reserve(self, now: float, max_wait_s: float) -> float | None:
        """Seconds to wait before sending (reserved), or None when that is over `max_wait_s`
        (nothing reserved).

        A sender less than one interval late keeps its slot, so the schedule does not slip by
        every wake-up's lateness (a sleep returns a little late, more so on a busy event loop:
        at 80/s, where the depth is one message, that alone cost about a tenth of the rate).
        Later than that, the slot is now: idle time is not saved up."""
        late = now - self.tat
        slot = self.tat if 0.0 <= late < self.interval_s else max(self.tat, now)
        wait = slot - self.tolerance_s - now
        if wait > max_wait_s:
            return None
        self.tat = slot + self.interval_s
        return max(wait, 0.0)

    def due_in(self, now: float) -> float:
        """Seconds until a slot can be taken."""
        return max(max(self.tat, now) - self.tolerance_s - now, 0.0)

    def pause(self, now: float, seconds: float) -> None:
        """No slot before `now + seconds`."""
        self.tat = max(self.tat, now + seconds + self.tolerance_s)


@dataclass
class _Number:
    bucket: Gcra
    limit: float
    second: int = -1
    count: int = 0


@dataclass
class Pacer:
    """The buckets of every number this process sends from."""

    limit_of: Callable[[str], float]
    target_ratio: float = 0.97
    burst_ratio: float = 0.02
    observer: SendObserver | None = None
    clock: Callable[[], float] = time.monotonic
    wall: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _numbers: dict[str, _Number] = field(default_factory=dict)

    def _number(self, phone_number_id: str) -> _Number:
        found = self._numbers.get(phone_number_id)
        limit = self.limit_of(phone_number_id)
        if found is None or found.limit != limit:
            burst = max(1, math.floor(limit * self.burst_ratio))
            # One message of margin below the limit for network jitter (what matters is when
            # the platform counts a message), never less than half the limit.
            rate = max(min(limit * self.target_ratio, limit - burst - 1), limit / 2)
            bucket = Gcra.for_rate(rate, burst)
            if found is not None:
                bucket.tat = found.bucket.tat
            found = _Number(bucket, limit)
            self._numbers[phone_number_id] = found
        return found

    async def acquire(self, phone_number_id: str, max_wait_s: float) -> bool:
        """Take this number's next slot at the moment it is due; False (nothing taken) when it
        is more than `max_wait_s` off. A slot is taken only when due, never reserved ahead, so
        waiters that wake late (a busy process) find the slots that passed gone instead of
        sending them all at once."""
        began = now = self.clock()
        while True:
            number = self._number(phone_number_id)
            if number.bucket.reserve(now, max_wait_s=0.0) is not None:
                break
            due = number.bucket.due_in(now)
            if now - began + due > max_wait_s:
                return False
            await self.sleep(due)
            now = self.clock()
        if self.observer is not None:
            self.observer.waited(now - began)
        self._count(number)
        return True

    def pause(self, phone_number_id: str, seconds: float) -> None:
        self._number(phone_number_id).bucket.pause(self.clock(), seconds)

    def _count(self, number: _Number) -> None:
        second = int(self.wall())
        if second != number.second:
            if number.count and self.observer is not None and second == number.second + 1:
                self.observer.rate(number.count / number.limit)
            number.second, number.count = second, 0
        number.count += 1
