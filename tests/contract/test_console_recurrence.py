"""The console's recurring campaigns against the scheduler's own rules (issue 22): every rule
Compose writes is one the scheduler accepts (`scheduler.recurrence.check_recurrence`), reads back
as written, and the occurrences the console previews are the ones the scheduler's campaign pass
creates (`Recurrence.occurrences`, on dateutil), across a clock change, month ends, weeks
skipped, COUNT and UNTIL. The console cannot import the scheduler (it talks to its API), so
this test holds the two together."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from console import campaigns, recurrence
from scheduler.recurrence import Recurrence, check_recurrence

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
FORMS = [
    {"rec_freq": "DAILY", "rec_time": "07:15", "rec_start": "2026-12-07"},
    {"rec_freq": "DAILY", "rec_interval": "3", "rec_end": "count", "rec_count": "40"},
    {"rec_freq": "WEEKLY", "rec_day": ["6"], "rec_time": "02:30", "rec_start": "2027-03-01"},
    {"rec_freq": "WEEKLY", "rec_interval": "2", "rec_day": ["0", "3", "5"]},
    {"rec_freq": "WEEKLY", "rec_end": "until", "rec_until": "2027-02-14"},
    {"rec_freq": "WEEKLY", "rec_interval": "5", "rec_day": ["1"], "rec_start": "2026-12-10"},
    {"rec_freq": "MONTHLY", "rec_start": "2026-12-31", "rec_time": "23:30"},
    {"rec_freq": "MONTHLY", "rec_interval": "13", "rec_start": "2027-01-29"},
    {"rec_freq": "MONTHLY", "rec_end": "count", "rec_count": "5", "rec_start": "2027-01-30"},
]
ZONES = ["Europe/Berlin", "America/Sao_Paulo", "Australia/Lord_Howe", "UTC"]


def items(fields: dict[str, str | list[str]]) -> list[tuple[str, str]]:
    base: dict[str, str | list[str]] = {"campaign_name": "c", "rec_time": "09:00"}
    found: list[tuple[str, str]] = []
    for name, value in (base | fields).items():
        found.extend((name, v) for v in ([value] if isinstance(value, str) else value))
    return found


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("fields", FORMS, ids=lambda f: ";".join(f"{k}={v}" for k, v in f.items()))
def test_the_console_previews_what_the_scheduler_creates(
    fields: dict[str, str | list[str]], zone: str
) -> None:
    tz = ZoneInfo(zone)
    form = campaigns.read(items(fields), NOW.date())
    checked = campaigns.check(form, tz, NOW)
    assert checked.problems == []
    assert checked.rule is not None
    assert checked.start is not None
    text = checked.rule.text()
    assert check_recurrence(text, zone, checked.start) == []
    assert recurrence.parse(text) == checked.rule

    horizon = NOW + timedelta(days=4000)  # eleven years: a monthly rule shows its month ends
    scheduler = Recurrence(text, zone, checked.start).occurrences(NOW, horizon)
    console = list(recurrence.moments(checked.rule, checked.start, tz, NOW, horizon))
    assert console[:200] == scheduler  # the scheduler's pass stops after 200 at a time
    assert recurrence.next_moments(checked.rule, checked.start, tz, NOW, 5) == scheduler[:5]


def test_an_end_before_the_start_is_refused_by_both() -> None:
    """The console says it at the field; the scheduler refuses the same rule at its path."""
    fields: dict[str, str | list[str]] = {
        "rec_freq": "DAILY", "rec_start": "2026-12-20", "rec_end": "until",
        "rec_until": "2026-12-10"}  # fmt: skip
    checked = campaigns.check(campaigns.read(items(fields), NOW.date()), ZoneInfo("UTC"), NOW)
    assert [v.path for v in checked.problems] == ["recurrence.until"]
    refused = check_recurrence(
        "FREQ=DAILY;UNTIL=20261210T235959", "UTC", NOW.replace(day=20, hour=9, tzinfo=None)
    )
    assert [v.path for v in refused] == ["recurrence.rule"]
