"""The publication-time buckets a period of the analytics summary reads
(scheduler.analytics.buckets): together they cover exactly the period's UTC days, whole ISO weeks
as one read each, whatever the bounds' time zones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from scheduler.analytics import buckets

pytestmark = pytest.mark.unit


def covered(start: datetime, end: datetime) -> list[date]:
    """The days the buckets of `[start, end)` select, in order, each week spelled out."""
    days: list[date] = []
    for field, value in buckets.buckets(start, end):
        first = date.fromisoformat(value)
        if field == buckets.WEEK:
            assert first.weekday() == 0, value
            days.extend(first + timedelta(days=i) for i in range(7))
        else:
            assert field == buckets.DAY
            days.append(first)
    return days


def every_day(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@pytest.mark.parametrize("days", [1, 6, 7, 8, 13, 28, 90, 366])
@pytest.mark.parametrize("offset_h", [0, 5, 23])
def test_a_period_reads_each_of_its_days_once(days: int, offset_h: int) -> None:
    start = datetime(2026, 12, 2, offset_h, 30, tzinfo=UTC)  # a Wednesday
    end = start + timedelta(days=days)
    found = covered(start, end)
    assert found == every_day(start.date(), (end - timedelta(microseconds=1)).date())
    weeks = [v for f, v in buckets.buckets(start, end) if f == buckets.WEEK]
    day_reads = len(buckets.buckets(start, end)) - len(weeks)
    assert day_reads <= 12  # at most six days at either end
    assert len(weeks) >= (days - 12) // 7


def test_a_bound_at_midnight_reads_no_day_after_it() -> None:
    monday = datetime(2026, 11, 30, tzinfo=UTC)
    assert buckets.buckets(monday, monday + timedelta(days=7)) == [(buckets.WEEK, "2026-11-30")]
    assert buckets.buckets(monday, monday + timedelta(days=1)) == [(buckets.DAY, "2026-11-30")]


def test_bounds_in_another_zone_are_read_by_their_utc_days() -> None:
    lisbon_summer = timezone(timedelta(hours=1))
    start = datetime(2026, 7, 1, 0, 30, tzinfo=lisbon_summer)  # 2026-06-30 23:30 UTC
    end = datetime(2026, 7, 1, 12, 0, tzinfo=lisbon_summer)
    assert covered(start, end) == [date(2026, 6, 30), date(2026, 7, 1)]


def test_an_empty_period_reads_nothing() -> None:
    at = datetime(2026, 12, 7, 12, tzinfo=UTC)
    assert buckets.buckets(at, at) == []
    assert buckets.buckets(at, at - timedelta(days=1)) == []


def test_a_snapshot_is_stamped_with_its_utc_day_and_monday() -> None:
    late = datetime(2026, 12, 6, 23, 30, tzinfo=timezone(timedelta(hours=-3)))  # Mon 02:30 UTC
    assert buckets.stamp(late) == {buckets.DAY: "2026-12-07", buckets.WEEK: "2026-12-07"}
    sunday = datetime(2026, 12, 6, 23, 59, tzinfo=UTC)
    assert buckets.stamp(sunday) == {buckets.DAY: "2026-12-06", buckets.WEEK: "2026-11-30"}


def test_without_a_publication_time_the_collection_less_the_age_counts() -> None:
    collected = datetime(2026, 12, 8, 0, 30, tzinfo=UTC)
    assert buckets.published_moment(None, collected, 3600) == collected - timedelta(hours=1)
    published = datetime(2026, 12, 1, tzinfo=UTC)
    assert buckets.published_moment(published, collected, 3600) == published
