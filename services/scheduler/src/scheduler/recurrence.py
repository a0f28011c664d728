"""Recurring campaign schedules: an RFC 5545 RRULE read in an IANA time zone.

Occurrences keep their wall-clock time across daylight-saving changes ("every Monday at 09:00
in Lisbon" stays 09:00 local), because the rule runs on local times and each one is converted to
UTC on its own.

A campaign creates posts, so a rule is held to two bounds (docs/adr/0016-bounded-inputs.md):

- **spacing**: occurrences at least an hour apart. `FREQ` alone does not say so
  (`FREQ=HOURLY;BYMINUTE=0,1,...;BYSECOND=0,1,...` yields one a second), so the rule's own
  sequence is checked: how many times a day its BYHOUR/BYMINUTE/BYSECOND lists can produce, then
  the gaps between its first occurrences; and the expansion drops any occurrence closer than an
  hour to the one before, whatever was stored;
- **cost**: `dateutil` looks for the next occurrence period by period and only stops at the
  year 9999, so a rule that never matches (`FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30`) cost seconds
  of CPU per pass. A rule is tried on a copy whose start is moved by whole 400-year Gregorian
  cycles (the calendar repeats exactly, so the occurrences are the same ones, shifted) to within
  a few centuries of the year 9999, which bounds the search; a rule with no occurrence in its
  first ten years is refused. An expansion stops at its horizon and after a bounded number of
  occurrences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from dateutil.rrule import rrule, rrulestr

from herald.events import Violation
from herald.inputs import moment_problem, zone_named

MAX_OCCURRENCES_PER_PASS = 200
TOO_FREQUENT = {"MINUTELY", "SECONDLY"}
MIN_SPACING = timedelta(hours=1)
WINDOW_YEARS = 10  # a rule must occur within this many years of its start
WINDOW_OCCURRENCES = 500  # the gaps between this many first occurrences are checked
CYCLE_YEARS = 400  # the Gregorian calendar repeats every 400 years, weekdays included
LAST_YEAR = 9999
# Occurrences an expansion may walk through from the start to the window asked for: an hourly
# campaign reaches it after about eleven years.
MAX_WALKED = 100_000


class UnusableRecurrence(ValueError):
    """A stored rule that the checks refuse (stored before they existed), or an expansion that
    walked past MAX_WALKED occurrences without reaching its window."""


@dataclass(frozen=True)
class Recurrence:
    rule: str
    timezone: str
    starts_at: datetime  # local wall-clock time, without offset

    def occurrences(self, after: datetime, until: datetime) -> list[datetime]:
        """UTC times of the occurrences in (after, until], at most MAX_OCCURRENCES_PER_PASS,
        each at least MIN_SPACING after the one before. Raises `UnusableRecurrence`."""
        problems = _checked(self.rule, self.timezone, self.starts_at)
        zone = zone_named(self.timezone)
        if problems or zone is None:
            raise UnusableRecurrence("; ".join(f"{p.path}: {p.message}" for p in problems))
        rule = _parse(self.rule, self.starts_at)
        local_after = after.astimezone(zone).replace(tzinfo=None)
        local_until = until.astimezone(zone).replace(tzinfo=None)
        found: list[datetime] = []
        previous: datetime | None = None
        for walked, local in enumerate(rule):
            if walked > MAX_WALKED:
                msg = f"more than {MAX_WALKED} occurrences before {local_after.isoformat()}"
                raise UnusableRecurrence(msg)
            if local <= local_after:
                continue
            if local > local_until or len(found) >= MAX_OCCURRENCES_PER_PASS:
                break
            moment = local.replace(tzinfo=zone).astimezone(UTC)
            if previous is not None and moment - previous < MIN_SPACING:
                continue
            if after < moment <= until:
                found.append(moment)
                previous = moment
        return found


def check_recurrence(rule: str, timezone: str, starts_at: datetime) -> list[Violation]:
    """Every reason this recurrence cannot be used; empty when it can. Its cost is bounded
    (about half a second of CPU for a rule that never occurs) and remembered per rule."""
    return list(_checked(rule, timezone, starts_at))


@lru_cache(maxsize=256)
def _checked(rule: str, timezone: str, starts_at: datetime) -> tuple[Violation, ...]:
    found: list[Violation] = []
    if zone_named(timezone) is None:
        message = f"{timezone!r} is not an IANA time zone (e.g. Europe/Lisbon)."
        found.append(Violation(path="recurrence.timezone", message=message, code="invalid_format"))
    if starts_at.tzinfo is not None:
        message = "Give the start as a local time without an offset; it is read in the time zone."
        found.append(Violation(path="recurrence.starts_at", message=message, code="not_allowed"))
        return tuple(found)
    problem = moment_problem(starts_at)
    if problem is not None:
        message = f"Give the start as {problem}."
        found.append(Violation(path="recurrence.starts_at", message=message, code="out_of_range"))
        return tuple(found)
    try:
        _parse(rule, starts_at)
    except (ValueError, TypeError, OverflowError) as exc:
        message = f"Not an RFC 5545 recurrence rule ({exc}); e.g. FREQ=WEEKLY;BYDAY=MO;BYHOUR=9."
        found.append(Violation(path="recurrence.rule", message=message, code="invalid_format"))
        return tuple(found)
    refusal = _too_frequent(rule) or _sequence_problem(rule, starts_at)
    if refusal is not None:
        found.append(Violation(path="recurrence.rule", message=refusal, code="out_of_range"))
    return tuple(found)


_UNTIL = re.compile(r"\d{8}(T\d{6})?")
_HOURLY_AT_MOST = "Campaigns recur at most hourly: occurrences at least an hour apart."


def _too_frequent(rule: str) -> str | None:
    """What the rule's text says about its frequency, before anything is expanded: FREQ, and
    how many times in one hour its BYMINUTE and BYSECOND lists produce (each combination, in
    every hour the rule has), unless BYSETPOS picks among them."""
    parts = _parts(rule)
    if parts.get("FREQ", "") in TOO_FREQUENT:
        return f"{_HOURLY_AT_MOST} (FREQ=HOURLY, DAILY, WEEKLY, ...)"
    per_hour = len(_values(parts, "BYMINUTE")) * len(_values(parts, "BYSECOND"))
    if per_hour > 1 and "BYSETPOS" not in parts:
        return f"{_HOURLY_AT_MOST} BYMINUTE and BYSECOND give {per_hour} times in each hour."
    return None


def _values(parts: dict[str, str], name: str) -> set[str]:
    return {v.strip().lstrip("+0") or "0" for v in parts.get(name, "0").split(",")}


def _sequence_problem(rule: str, starts_at: datetime) -> str | None:
    """The first occurrences (within WINDOW_YEARS, at most WINDOW_OCCURRENCES) of a copy of the
    rule moved whole calendar cycles ahead, so the search for them ends by the year 9999."""
    shift = CYCLE_YEARS * max((LAST_YEAR - WINDOW_YEARS - starts_at.year) // CYCLE_YEARS, 0)
    moved = starts_at.replace(year=starts_at.year + shift)
    window_end = moved.replace(year=moved.year + WINDOW_YEARS)
    previous: datetime | None = None
    seen = 0
    for local in _parse(_moved_until(rule, shift), moved):
        if local > window_end or seen >= WINDOW_OCCURRENCES:
            break
        if previous is not None and local - previous < MIN_SPACING:
            return (
                f"{_HOURLY_AT_MOST} Two occurrences are {_span(local - previous)} apart "
                f"({_unshift(previous, shift)} and {_unshift(local, shift)})."
            )
        previous, seen = local, seen + 1
    if seen == 0:
        return f"This rule has no occurrence in the {WINDOW_YEARS} years from its start."
    return None


def _moved_until(rule: str, shift: int) -> str:
    """The rule with its UNTIL moved `shift` years (dropped past the year 9999, where the
    search ends anyway)."""
    parts = _parts(rule)
    if "UNTIL" not in parts:
        return rule
    until = parts.pop("UNTIL")
    year = int(until[:4]) + shift
    if year <= LAST_YEAR:
        parts["UNTIL"] = f"{year:04d}{until[4:]}"
    return ";".join(f"{k}={v}" for k, v in parts.items())


def _unshift(moment: datetime, shift: int) -> str:
    return moment.replace(year=moment.year - shift).isoformat()


def _span(gap: timedelta) -> str:
    seconds = int(gap.total_seconds())
    return f"{seconds // 60} min" if seconds >= 60 else f"{seconds} s"


def _parts(rule: str) -> dict[str, str]:
    text = rule.strip().upper().removeprefix("RRULE:")
    pairs = (p.split("=", 1) for p in text.split(";") if "=" in p)
    return {k.strip(): v.strip() for k, v in pairs}


def _parse(rule: str, starts_at: datetime) -> rrule:
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    if "DTSTART" in text.upper() or "\n" in text:
        msg = "give only the RRULE part; the start and time zone are separate fields"
        raise ValueError(msg)
    parts = _parts(text)
    if "COUNT" in parts and "UNTIL" in parts:
        msg = "COUNT and UNTIL cannot both be given (RFC 5545)"
        raise ValueError(msg)
    if not _UNTIL.fullmatch(parts.get("UNTIL", "20000101")):
        msg = "UNTIL is a date (YYYYMMDD) or a local time (YYYYMMDDTHHMMSS)"
        raise ValueError(msg)
    parsed = rrulestr(text, dtstart=starts_at)
    if not isinstance(parsed, rrule):
        msg = "expected a single RRULE"
        raise TypeError(msg)
    return parsed
