"""The per-number bucket as pure arithmetic on a fake clock: spacing, depth, no catch-up after
idle time, pauses, refusal beyond the longest wait, fair sharing, and the rate it reports."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from publisher_whatsapp.pace import Gcra, Pacer
from publisher_whatsapp.testing import RecordingObserver

pytestmark = pytest.mark.unit


class FakeTime:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_slots_are_one_interval_apart_after_the_burst() -> None:
    bucket = Gcra.for_rate(10.0, burst=3)

    waits = [bucket.reserve(0.0, max_wait_s=10.0) for _ in range(5)]

    assert waits == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2])


def test_idle_time_is_not_saved_up_beyond_the_depth() -> None:
    bucket = Gcra.for_rate(10.0, burst=2)
    for _ in range(4):
        bucket.reserve(0.0, max_wait_s=10.0)

    waits = [bucket.reserve(100.0, max_wait_s=10.0) for _ in range(4)]

    assert waits == pytest.approx([0.0, 0.0, 0.1, 0.2])


def test_a_slot_too_far_off_is_refused_and_not_taken() -> None:
    bucket = Gcra.for_rate(1.0, burst=1)
    bucket.reserve(0.0, max_wait_s=10.0)

    refused = bucket.reserve(0.0, max_wait_s=0.5)
    taken = bucket.reserve(0.0, max_wait_s=1.0)

    assert refused is None
    assert taken == pytest.approx(1.0)


def test_a_pause_holds_every_slot_until_it_ends() -> None:
    bucket = Gcra.for_rate(100.0, burst=5)

    bucket.pause(10.0, 2.0)

    assert bucket.reserve(10.0, max_wait_s=5.0) == pytest.approx(2.0)


@pytest.mark.parametrize(("limit", "ratio", "depth"), [(80.0, 0.97, 0.02), (1000.0, 0.97, 0.02)])
async def test_no_one_second_window_goes_over_the_limit(
    limit: float, ratio: float, depth: float
) -> None:
    busiest, quietest_full = await _five_seconds(FakeTime(start=0.25), limit, ratio, depth)

    assert busiest <= limit
    assert quietest_full >= 0.95 * limit


async def _five_seconds(
    time: FakeTime, limit: float, ratio: float, depth: float
) -> tuple[int, int]:
    """Send for five seconds; the busiest whole second and the quietest full one."""
    pacer = Pacer(
        lambda _: limit, ratio, depth, clock=time.clock, wall=time.clock, sleep=time.sleep
    )
    starts = []
    for _ in range(int(limit * 5)):
        assert await pacer.acquire("n1", max_wait_s=5.0)
        starts.append(time.now)
    windows = Counter(int(t) for t in starts)
    full = [n for second, n in windows.items() if 0 < second < max(windows)]
    return max(windows.values()), min(full)


@pytest.mark.parametrize("limit", [10.0, 20.0, 80.0])
async def test_a_whole_second_keeps_one_message_of_margin_below_the_limit(limit: float) -> None:
    time = FakeTime(start=0.5)
    pacer = Pacer(lambda _: limit, 1.0, 0.02, clock=time.clock, wall=time.clock, sleep=time.sleep)
    starts = []
    for _ in range(int(limit * 4)):
        await pacer.acquire("n1", max_wait_s=5.0)
        starts.append(time.now)

    assert max(Counter(int(t) for t in starts).values()) <= limit - 1


async def test_concurrent_senders_of_one_number_share_its_rate() -> None:
    time = FakeTime()
    pacer = Pacer(lambda _: 10.0, 1.0, 0.0, clock=time.clock, sleep=time.sleep)
    reserved: list[float] = []

    async def sender() -> None:
        for _ in range(5):
            await pacer.acquire("n1", max_wait_s=10.0)
            reserved.append(time.now)

    await asyncio.gather(sender(), sender())

    assert len(reserved) == 10
    assert max(reserved) - 1000.0 == pytest.approx(9 / 8)  # 8/s: one below 10 less the depth


async def test_numbers_have_their_own_buckets_and_limits() -> None:
    time = FakeTime()
    limits = {"slow": 1.0, "fast": 1000.0}
    pacer = Pacer(limits.__getitem__, 1.0, 0.0, clock=time.clock, sleep=time.sleep)

    await pacer.acquire("slow", max_wait_s=5.0)
    slow_again = await pacer.acquire("slow", max_wait_s=0.5)
    fast = [await pacer.acquire("fast", max_wait_s=0.5) for _ in range(100)]

    assert slow_again is False
    assert all(fast)


async def test_the_rate_of_each_full_second_is_reported_as_a_share_of_the_limit() -> None:
    time = FakeTime(start=0.0)
    observer = RecordingObserver()
    pacer = Pacer(lambda _: 10.0, 1.0, 0.1, observer, time.clock, time.clock, time.sleep)

    for _ in range(25):
        await pacer.acquire("n1", max_wait_s=5.0)

    assert observer.rates == pytest.approx([0.8, 0.8, 0.8])  # the fourth second is not over
    assert len(observer.waits) == 25


class StallingTime:
    """Virtual time for concurrent waiters: sleepers wake in order, except that once the clock
    passes `stall_at` the process is "busy" for `stall_s` and every sleeper due meanwhile wakes
    late, all at once."""

    def __init__(self, stall_at: float, stall_s: float) -> None:
        self.now = 0.0
        self.stall_at, self.stall_s = stall_at, stall_s
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        self._sleepers.append((self.now + seconds, self._seq, future))
        await future

    async def drive(self, until: float) -> None:
        while self.now < until:
            for _ in range(20):
                await asyncio.sleep(0)
            if not self._sleepers:
                continue
            self._sleepers.sort(key=lambda s: (s[0], s[1]))
            wake = self._sleepers[0][0]
            if self.now < self.stall_at <= wake:
                wake += self.stall_s
            self.now = max(self.now, wake)
            due = [s for s in self._sleepers if s[0] <= self.now]
            self._sleepers = [s for s in self._sleepers if s[0] > self.now]
            for _, _, future in due:
                future.set_result(None)


async def test_waiters_that_wake_late_do_not_send_the_missed_slots_at_once() -> None:
    time = StallingTime(stall_at=1.0, stall_s=0.4)
    limit = 50.0
    pacer = Pacer(lambda _: limit, 0.97, 0.02, clock=time.clock, wall=time.clock, sleep=time.sleep)
    starts: list[float] = []

    async def sender() -> None:
        while time.now < 3.0:
            if await pacer.acquire("n1", max_wait_s=5.0):
                starts.append(time.now)

    senders = [asyncio.create_task(sender()) for _ in range(8)]
    await time.drive(until=3.0)
    for task in senders:
        task.cancel()
    await asyncio.gather(*senders, return_exceptions=True)

    starts.sort()
    busiest = max(sum(1 for t in starts if s <= t < s + 1.0) for s in starts)
    assert busiest <= limit - 1
    assert len([t for t in starts if 1.0 <= t < 1.4]) <= 1  # nothing sent while busy but one


@pytest.mark.parametrize("limit", [80.0, 1000.0])
async def test_late_wake_ups_neither_slow_the_pace_nor_push_a_window_over(limit: float) -> None:
    """A slot is taken only when due; a sender that wakes a little late still gets it, so the
    schedule does not slip by every wake-up's lateness."""

    class LateTime(FakeTime):
        async def sleep(self, seconds: float) -> None:
            self.now += seconds + 0.002  # every sleep returns 2 ms late

    busiest, quietest_full = await _five_seconds(LateTime(start=0.25), limit, 0.97, 0.02)

    assert busiest <= limit - 1
    assert quietest_full >= 0.95 * limit
