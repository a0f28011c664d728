"""Rate-limit arithmetic as tables: token buckets, sliding logs, rolling counts."""

from __future__ import annotations

import pytest

from platform_sandbox.ratelimit import Bucket, RollingCount, SlidingLog, take

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("bucket", "now", "ok", "left"),
    [
        (None, 0.0, True, 1.0),  # a new bucket starts full (capacity 2)
        (Bucket(0.0, 0.0), 0.4, False, 0.4),
        (Bucket(0.0, 0.0), 1.0, True, 0.0),
        (Bucket(1.5, 0.0), 100.0, True, 1.0),  # refills no further than capacity
    ],
)
def test_take(bucket: Bucket | None, now: float, ok: bool, left: float) -> None:
    after, allowed = take(bucket, now=now, rate=1.0, capacity=2.0)
    assert allowed is ok
    assert after.tokens == pytest.approx(left)


def test_pair_rate_borrows_future_quota() -> None:
    bucket = None
    for _ in range(45):
        bucket, ok = take(bucket, now=0.0, rate=1 / 6, capacity=45)
        assert ok
    bucket, ok = take(bucket, now=5.0, rate=1 / 6, capacity=45)
    assert not ok
    _, ok = take(bucket, now=6.5, rate=1 / 6, capacity=45)
    assert ok


def test_sliding_log() -> None:
    log = SlidingLog()
    assert [log.allow("k", now=t, limit=2, window_s=60) for t in (0, 1, 2)] == [True, True, False]
    assert log.allow("k", now=60.5, limit=2, window_s=60)
    assert log.count("other", now=0, window_s=60) == 0


def test_rolling_count_forgets_old_slots() -> None:
    counter = RollingCount(window_s=60)
    for t in range(10):
        counter.add("k", now=float(t))
    assert counter.total("k", now=9.0) == 10
    assert counter.total("k", now=65.0) == 4
    assert counter.total("k", now=200.0) == 0
