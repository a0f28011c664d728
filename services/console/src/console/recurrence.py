"""The recurrences Compose offers (every N days, weeks on chosen weekdays, or months, at a time of
day, until a date or for a number of times), as the RFC 5545 RRULE the scheduler's campaigns
take (`POST /v1/campaigns`, `recurrence {rule, timezone, starts_at}`), read back into words, and
expanded into their next occurrences the way the scheduler's campaign pass expands them
(`scheduler.recurrence`, on `dateutil`): local wall-clock times in the campaign's zone, each
converted to UTC on its own, so 09:00 stays 09:00 across daylight saving. A rule outside this
subset (written through the API) is shown as written; `tests/contract/test_console_recurrence.py`
holds the expansion to the scheduler's for a table of rules."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count as counting
from zoneinfo import ZoneInfo

FREQUENCIES = {
    "DAILY": ("day", "days"),
    "WEEKLY": ("week", "weeks"),
    "MONTHLY": ("month", "months"),
}
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_WALKED = 100_000  # as the scheduler's expansion: occurrences walked from the start at most
LAST_YEAR = 2999  # Herald's times end here (herald.inputs)


@dataclass(frozen=True)
class Rule:
    frequency: str  # DAILY, WEEKLY or MONTHLY
    interval: int = 1
    weekdays: tuple[int, ...] = ()  # 0 = Monday; WEEKLY only; none: the start's weekday
    count: int | None = None
    until: datetime | None = None  # local, inclusive

    def text(self) -> str:
        """The RRULE (`FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=10`)."""
        parts = [f"FREQ={self.frequency}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.weekdays:
            parts.append("BYDAY=" + ",".join(WEEKDAYS[d] for d in sorted(set(self.weekdays))))
        if self.count is not None:
            parts.append(f"COUNT={self.count}")
        if self.until is not None:
            parts.append(f"UNTIL={self.until:%Y%m%dT%H%M%S}")
        return ";".join(parts)


def parse(text: str) -> Rule | None:
    """The rule, if it is one this subset expresses; None otherwise (shown as written)."""
    body = text.strip().upper().removeprefix("RRULE:")
    try:
        parts = dict(p.split("=", 1) for p in body.split(";") if p)
        frequency = parts.pop("FREQ")
        interval = int(parts.pop("INTERVAL", "1"))
        days = [WEEKDAYS.index(d) for d in parts.pop("BYDAY", "").split(",") if d]
        count = int(parts["COUNT"]) if "COUNT" in parts else None
        until = _until(parts["UNTIL"]) if "UNTIL" in parts else None
    except (KeyError, ValueError):
        return None
    parts.pop("COUNT", None)
    parts.pop("UNTIL", None)
    if parts.pop("WKST", "MO") != "MO" or parts or frequency not in FREQUENCIES:
        return None
    if interval < 1 or (days and frequency != "WEEKLY") or (count is not None and until):
        return None
    return Rule(frequency, interval, tuple(sorted(set(days))), count, until)


def _until(value: str) -> datetime:
    if len(value) == 8:  # a date: dateutil reads it as that day's midnight
        return datetime.strptime(value, "%Y%m%d")  # noqa: DTZ007 - a local wall-clock time
    return datetime.strptime(value, "%Y%m%dT%H%M%S")  # noqa: DTZ007 - a local wall-clock time


def local_times(rule: Rule, start: datetime) -> Iterator[datetime]:
    """The rule's occurrences from `start` (local, naive), in order, as dateutil yields them: a
    weekly rule's weeks begin on the Monday of the start's week, a monthly rule skips a month
    without the start's day, and the start itself counts only if the rule matches it."""
    for found, local in enumerate(_candidates(rule, start)):
        if local.year > LAST_YEAR or (rule.until is not None and local > rule.until):
            return
        if rule.count is not None and found >= rule.count:
            return
        yield local


def _candidates(rule: Rule, start: datetime) -> Iterator[datetime]:
    if rule.frequency == "DAILY":
        for k in counting(0, rule.interval):
            yield start + timedelta(days=k)
    elif rule.frequency == "WEEKLY":
        days = sorted(set(rule.weekdays)) or [start.weekday()]
        monday = start - timedelta(days=start.weekday())
        for week in counting(0, rule.interval):
            for day in days:
                local = monday + timedelta(days=7 * week + day)
                if local >= start:
                    yield local
    else:
        for k in counting(0, rule.interval):
            year, month = divmod(start.month - 1 + k, 12)
            if year + start.year > LAST_YEAR:
                return
            if start.day <= calendar.monthrange(start.year + year, month + 1)[1]:
                yield start.replace(year=start.year + year, month=month + 1)


def moments(
    rule: Rule, start: datetime, zone: ZoneInfo, after: datetime, until: datetime | None = None
) -> Iterator[datetime]:
    """UTC times of the occurrences after `after` (and up to `until`), each local time read in
    `zone` on its own (a time a clock change skips reads as the scheduler reads it)."""
    for walked, local in enumerate(local_times(rule, start)):
        if walked > MAX_WALKED:
            return
        moment = local.replace(tzinfo=zone).astimezone(UTC)
        if until is not None and moment > until:
            return
        if moment > after:
            yield moment


def next_moments(
    rule: Rule, start: datetime, zone: ZoneInfo, after: datetime, n: int
) -> list[datetime]:
    found: list[datetime] = []
    for moment in moments(rule, start, zone, after):
        found.append(moment)
        if len(found) >= n:
            break
    return found


def words(rule: Rule, start: datetime) -> str:
    """ "Every 2 weeks on Monday and Thursday at 09:00, from 2026-12-08, 10 times"."""
    one, many = FREQUENCIES[rule.frequency]
    said = f"Every {one}" if rule.interval == 1 else f"Every {rule.interval} {many}"
    if rule.frequency == "WEEKLY":
        days = [DAY_NAMES[d] for d in sorted(set(rule.weekdays)) or [start.weekday()]]
        said += " on " + (", ".join(days[:-1]) + " and " + days[-1] if len(days) > 1 else days[0])
    elif rule.frequency == "MONTHLY":
        said += f" on day {start.day}"
    said += f" at {start:%H:%M}, from {start:%Y-%m-%d}"
    if rule.count is not None:
        said += ", once" if rule.count == 1 else f", {rule.count} times"
    if rule.until is not None:
        said += f", until {rule.until:%Y-%m-%d}"
    return said
