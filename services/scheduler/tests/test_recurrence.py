"""Recurring campaigns: RRULEs read in a time zone, keeping wall-clock time across DST."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from scheduler.recurrence import (
    MAX_OCCURRENCES_PER_PASS,
    MAX_WALKED,
    Recurrence,
    UnusableRecurrence,
    check_recurrence,
)

pytestmark = pytest.mark.unit


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time without offset, read in a time zone by the code under test."""
    return datetime(year, month, day, hour, minute)  # noqa: DTZ001 - naive on purpose


def test_weekly_at_nine_stays_nine_local_across_the_dst_change() -> None:
    rule = Recurrence(
        "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0", "Europe/Lisbon", local(2031, 3, 1)
    )
    found = rule.occurrences(datetime(2031, 3, 20, tzinfo=UTC), datetime(2031, 4, 8, tzinfo=UTC))
    assert found == [
        datetime(2031, 3, 24, 9, 0, tzinfo=UTC),  # winter time: UTC+0
        datetime(2031, 3, 31, 8, 0, tzinfo=UTC),  # summer time: UTC+1
        datetime(2031, 4, 7, 8, 0, tzinfo=UTC),
    ]


def test_the_window_is_open_at_the_start_and_closed_at_the_end() -> None:
    rule = Recurrence("FREQ=DAILY", "UTC", local(2031, 1, 1, 12, 0))
    start = datetime(2031, 1, 2, 12, 0, tzinfo=UTC)
    found = rule.occurrences(start, start + timedelta(days=2))
    assert found == [start + timedelta(days=1), start + timedelta(days=2)]


def test_a_pass_is_bounded() -> None:
    rule = Recurrence("FREQ=HOURLY", "UTC", local(2031, 1, 1))
    found = rule.occurrences(datetime(2031, 1, 1, tzinfo=UTC), datetime(2032, 1, 1, tzinfo=UTC))
    assert len(found) == MAX_OCCURRENCES_PER_PASS


@pytest.mark.parametrize(
    ("rule", "zone", "start", "problems"),
    [
        ("FREQ=WEEKLY;BYDAY=MO", "Europe/Lisbon", local(2031, 1, 1), []),
        ("RRULE:FREQ=DAILY;COUNT=3", "UTC", local(2031, 1, 1), []),
        ("FREQ=MINUTELY", "UTC", local(2031, 1, 1), [("recurrence.rule", "out_of_range")]),
        ("FREQ=SOMETIMES", "UTC", local(2031, 1, 1), [("recurrence.rule", "invalid_format")]),
        (
            "DTSTART:20310101T000000\nRRULE:FREQ=DAILY",
            "UTC",
            local(2031, 1, 1),
            [("recurrence.rule", "invalid_format")],
        ),
        (
            "FREQ=DAILY",
            "Atlantis/Capital",
            local(2031, 1, 1),
            [("recurrence.timezone", "invalid_format")],
        ),
        (
            "FREQ=DAILY",
            "UTC",
            datetime(2031, 1, 1, tzinfo=UTC),
            [("recurrence.starts_at", "not_allowed")],
        ),
    ],
)
def test_recurrences_are_checked(
    rule: str, zone: str, start: datetime, problems: list[tuple[str, str]]
) -> None:
    assert [(v.path, v.code) for v in check_recurrence(rule, zone, start)] == problems


EVERY_MINUTE_AND_SECOND = (
    "FREQ=HOURLY;BYMINUTE="
    + ",".join(str(m) for m in range(60))
    + ";BYSECOND="
    + ",".join(str(s) for s in range(60))
)


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        # issue 19: "hourly" by FREQ, one occurrence a second by its BY-lists
        (EVERY_MINUTE_AND_SECOND, "3600 times in each hour"),
        ("FREQ=DAILY;BYHOUR=9;BYMINUTE=0,30", "2 times in each hour"),
        # two a day, 30 minutes apart, found in the sequence itself (BYSETPOS picks them)
        ("FREQ=DAILY;BYHOUR=9;BYMINUTE=0,30;BYSETPOS=1,2", "30 min apart"),
        ("FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30", "no occurrence in the 10 years"),
        ("FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31", "no occurrence in the 10 years"),
        ("FREQ=DAILY;UNTIL=20300101T000000", "no occurrence in the 10 years"),
    ],
)
def test_rules_are_held_to_an_hour_apart_and_to_occurring_at_all(rule: str, problem: str) -> None:
    found = check_recurrence(rule, "Europe/Lisbon", local(2031, 1, 1, 9))
    assert [(v.path, v.code) for v in found] == [("recurrence.rule", "out_of_range")]
    assert problem in found[0].message


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=HOURLY",
        "FREQ=DAILY;BYHOUR=9,10,11;BYMINUTE=0",
        "FREQ=DAILY;BYHOUR=9;BYMINUTE=0,30;BYSETPOS=1",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",  # leap days: within four years
        "FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13",
        "FREQ=WEEKLY;UNTIL=20320101",
    ],
)
def test_sparse_and_hourly_rules_pass(rule: str) -> None:
    assert check_recurrence(rule, "Europe/Lisbon", local(2031, 1, 1, 9)) == []


@pytest.mark.parametrize(
    ("rule", "zone", "start", "path"),
    [
        ("FREQ=DAILY", "Europe", local(2031, 1, 1), "recurrence.timezone"),  # a directory
        ("FREQ=DAILY", "UTC", local(9999, 12, 31, 23), "recurrence.starts_at"),
        ("FREQ=DAILY", "UTC", local(1, 1, 1), "recurrence.starts_at"),
        ("FREQ=DAILY;COUNT=2;UNTIL=20320101", "UTC", local(2031, 1, 1), "recurrence.rule"),
        ("FREQ=DAILY;UNTIL=20320101T000000Z", "UTC", local(2031, 1, 1), "recurrence.rule"),
    ],
)
def test_zones_starts_and_rule_parts_that_broke_the_expansion_are_refused(
    rule: str, zone: str, start: datetime, path: str
) -> None:
    assert [v.path for v in check_recurrence(rule, zone, start)] == [path]


def test_an_expansion_keeps_an_hour_between_occurrences_across_a_clock_change() -> None:
    """Lisbon skips 01:00-02:00 on 2031-03-30: the rule's 01:00 and the skipped 02:00 fall on
    the same instant; one post, not two."""
    rule = Recurrence("FREQ=HOURLY", "Europe/Lisbon", local(2031, 3, 29))
    found = rule.occurrences(
        datetime(2031, 3, 29, 23, tzinfo=UTC), datetime(2031, 3, 30, 5, tzinfo=UTC)
    )
    gaps = [later - earlier for earlier, later in itertools.pairwise(found)]
    assert found[0] == datetime(2031, 3, 30, 0, tzinfo=UTC)
    assert min(gaps) >= timedelta(hours=1)


def test_a_stored_rule_more_frequent_than_hourly_is_refused_at_expansion() -> None:
    rule = Recurrence(EVERY_MINUTE_AND_SECOND, "UTC", local(2031, 1, 1))
    with pytest.raises(UnusableRecurrence):
        rule.occurrences(datetime(2031, 1, 1, tzinfo=UTC), datetime(2031, 1, 2, tzinfo=UTC))


def test_a_stored_rule_that_never_occurs_is_refused_not_searched_to_the_year_9999() -> None:
    rule = Recurrence("FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30", "UTC", local(2031, 1, 1))
    with pytest.raises(UnusableRecurrence, match="no occurrence"):
        rule.occurrences(datetime(2031, 1, 1, tzinfo=UTC), datetime(2031, 2, 1, tzinfo=UTC))


def test_a_stored_rule_older_than_the_walk_allows_is_refused() -> None:
    rule = Recurrence("FREQ=HOURLY", "UTC", local(2031, 1, 1))
    late = datetime(2031, 1, 1, tzinfo=UTC) + timedelta(hours=MAX_WALKED + 10)
    with pytest.raises(UnusableRecurrence, match="occurrences before"):
        rule.occurrences(late, late + timedelta(days=1))
