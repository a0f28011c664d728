"""Recurring campaign schedules: an RFC 5545 RRULE read in an IANA time zone.

Occurrences keep their wall-clock time across daylight-saving changes ("every Monday at 09:00
in Lisbon" stays 09:00 local), because the rule runs on local times and each one is converted to
UTC on its own. Rules more frequent than hourly are refused: a campaign creates posts, and a
post every minute is a mistake, not a campaign.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

from herald.events import Violation

MAX_OCCURRENCES_PER_PASS = 200
TOO_FREQUENT = {"MINUTELY", "SECONDLY"}


@dataclass(frozen=True)
class Recurrence:
    rule: str
    timezone: str
    starts_at: datetime  # local wall-clock time, without offset

    def occurrences(self, after: datetime, until: datetime) -> list[datetime]:
        """UTC times of the occurrences in (after, until], at most MAX_OCCURRENCES_PER_PASS."""
        zone = ZoneInfo(self.timezone)
        rule = _parse(self.rule, self.starts_at)
        found: list[datetime] = []
        local_after = after.astimezone(zone).replace(tzinfo=None)
        local_until = until.astimezone(zone).replace(tzinfo=None)
        for local in rule.xafter(local_after, count=MAX_OCCURRENCES_PER_PASS + 1, inc=False):
            if local > local_until or len(found) >= MAX_OCCURRENCES_PER_PASS:
                break
            moment = local.replace(tzinfo=zone).astimezone(UTC)
            if after < moment <= until:
                found.append(moment)
        return found


def check_recurrence(rule: str, timezone: str, starts_at: datetime) -> list[Violation]:
    """Every reason this recurrence cannot be used; empty when it can."""
    found: list[Violation] = []
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"{timezone!r} is not an IANA time zone (e.g. Europe/Lisbon)."
        found.append(Violation(path="recurrence.timezone", message=message, code="invalid_format"))
    if starts_at.tzinfo is not None:
        message = "Give the start as a local time without an offset; it is read in the time zone."
        found.append(Violation(path="recurrence.starts_at", message=message, code="not_allowed"))
    try:
        _parse(rule, starts_at.replace(tzinfo=None))
    except (ValueError, TypeError) as exc:
        message = f"Not an RFC 5545 recurrence rule ({exc}); e.g. FREQ=WEEKLY;BYDAY=MO;BYHOUR=9."
        found.append(Violation(path="recurrence.rule", message=message, code="invalid_format"))
        return found
    if _frequency(rule) in TOO_FREQUENT:
        message = "Campaigns can recur at most hourly (FREQ=HOURLY, DAILY, WEEKLY, ...)."
        found.append(Violation(path="recurrence.rule", message=message, code="out_of_range"))
    return found


def _frequency(rule: str) -> str:
    found = re.search(r"FREQ=([A-Z]+)", rule.upper())
    return found.group(1) if found else ""


def _parse(rule: str, starts_at: datetime) -> rrule:
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[len("RRULE:") :]
    if "DTSTART" in text.upper() or "\n" in text:
        msg = "give only the RRULE part; the start and time zone are separate fields"
        raise ValueError(msg)
    parsed = rrulestr(text, dtstart=starts_at)
    if not isinstance(parsed, rrule):
        msg = "expected a single RRULE"
        raise TypeError(msg)
    return parsed
