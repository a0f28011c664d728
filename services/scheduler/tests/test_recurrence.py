"""Recurring campaigns: RRULEs read in a time zone, keeping wall-clock time across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduler.recurrence import MAX_OCCURRENCES_PER_PASS, Recurrence, check_recurrence

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
