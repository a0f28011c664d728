"""Compose as a recurring campaign, without the web framework: the form's recurrence fields →
the scheduler's `POST /v1/campaigns` body (name, `recurrence {rule, timezone, starts_at}`, and
the composed post as its `template`), the checks the API runs on them with each violation at
its field, the next occurrences in the business's zone, and a campaign as the Campaigns page
says it (`console.recurrence` does the rule itself). The API stays the authority: its 422
(`name`, `recurrence.rule`, `template.targets[0]...`) is placed through the same `field_of`."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from console import compose, recurrence
from console.recurrence import Rule
from herald.events import Violation
from herald.inputs import moment_problem, zone_named

NAME_MAX = 200  # the API's CampaignCreate.name
INTERVAL_MAX = 99  # the form's own bound: "every 99 weeks" is as far as a person plans
COUNT_MAX = 1000
PREVIEWED = 5  # occurrences shown ahead
FREQUENCY_WORDS = {"DAILY": "Daily", "WEEKLY": "Weekly", "MONTHLY": "Monthly"}
_FIELDS = {
    "name": "campaign_name",
    "recurrence.frequency": "rec_freq",
    "recurrence.interval": "rec_interval",
    "recurrence.weekdays": "rec_days",
    "recurrence.time": "rec_time",
    "recurrence.starts_on": "rec_start",
    "recurrence.starts_at": "rec_start",
    "recurrence.end": "rec_end",
    "recurrence.until": "rec_until",
    "recurrence.count": "rec_count",
}
FIELDS = ["recurrence", *dict.fromkeys(_FIELDS.values())]
_NAMES = ("campaign_name", "rec_freq", "rec_interval", "rec_time", "rec_start", "rec_end")


@dataclass
class Recurring:
    """The recurrence fields as typed (strings), so a refused form comes back as it was."""

    campaign_name: str = ""
    rec_freq: str = "WEEKLY"
    rec_interval: str = "1"
    rec_days: list[str] = field(default_factory=list)  # "0" (Monday) .. "6"
    rec_time: str = "09:00"
    rec_start: str = ""  # a date, in the business's zone
    rec_end: str = "never"  # never, until, count
    rec_until: str = ""
    rec_count: str = ""


def read(items: Sequence[tuple[str, str]], today: date) -> Recurring:
    found = Recurring(rec_start=today.isoformat())
    for name, value in items:
        if name in (*_NAMES, "rec_until", "rec_count"):
            setattr(found, name, value)
        elif name == "rec_day" and value not in found.rec_days:
            found.rec_days.append(value)
    return found


@dataclass(frozen=True)
class Checked:
    problems: list[Violation]
    rule: Rule | None = None
    start: datetime | None = None  # the first occurrence's local time (naive)


def check(form: Recurring, zone: ZoneInfo, now: datetime) -> Checked:
    """Every problem with the recurrence fields, at the paths `field_of` places; the rule and
    start when there is none."""
    found: list[Violation] = []

    def refuse(path: str, message: str, code: str = "invalid_format") -> None:
        found.append(Violation(path=path, message=message, code=code))

    name = form.campaign_name.strip()
    if not name:
        refuse("name", "Give the campaign a name (it names its posts on the calendar).", "required")
    elif len(name) > NAME_MAX:
        refuse("name", f"A campaign's name is {NAME_MAX} characters at most.", "too_long")
    if form.rec_freq not in recurrence.FREQUENCIES:
        refuse("recurrence.frequency", "Choose daily, weekly or monthly.")
    interval = _whole(form.rec_interval, 1, INTERVAL_MAX)
    if interval is None:
        refuse("recurrence.interval", f"Repeat every 1 to {INTERVAL_MAX} (a whole number).")
    days = [int(d) for d in form.rec_days if d in "0123456" and len(d) == 1]
    if len(days) != len(form.rec_days):
        refuse("recurrence.weekdays", "Choose weekdays from Monday to Sunday.")
    at = _time(form.rec_time)
    if at is None:
        refuse("recurrence.time", "Give the time of day as hours and minutes, e.g. 09:00.")
    first = _date(form.rec_start)
    if first is None:
        refuse("recurrence.starts_on", "Give the first day as a date, e.g. 2026-12-08.")
    elif (problem := moment_problem(datetime.combine(first, time()))) is not None:
        refuse("recurrence.starts_on", f"Give the first day as {problem}.", "out_of_range")
    count, until = _end(form, first, refuse)
    if found or at is None or first is None or interval is None:
        return Checked(found)
    rule = Rule(
        form.rec_freq,
        interval,
        tuple(days) if form.rec_freq == "WEEKLY" else (),
        count,
        None if until is None else datetime.combine(until, time(23, 59, 59)),
    )
    start = datetime.combine(first, at)
    if not recurrence.next_moments(rule, start, zone, now, 1):
        message = "This campaign has no occurrence from now on: move its end or its first day."
        path = "recurrence.until" if until is not None else "recurrence.starts_on"
        refuse(path if count is None else "recurrence.count", message, "out_of_range")
        return Checked(found)
    return Checked(found, rule, start)


def _end(
    form: Recurring, first: date | None, refuse: Callable[[str, str], None]
) -> tuple[int | None, date | None]:
    if form.rec_end == "count":
        count = _whole(form.rec_count, 1, COUNT_MAX)
        if count is None:
            refuse("recurrence.count", f"Give how many times: 1 to {COUNT_MAX}.")
        return count, None
    if form.rec_end == "until":
        until = _date(form.rec_until)
        if until is None:
            refuse("recurrence.until", "Give the last day as a date, or choose another end.")
        elif first is not None and until < first:
            refuse("recurrence.until", "The last day comes before the first.")
        return None, until
    if form.rec_end != "never":
        refuse("recurrence.end", "Choose when the campaign ends: never, on a day, or after N.")
    return None, None


def _whole(value: str, low: int, high: int) -> int | None:
    value = value.strip()
    if not (value.isascii() and value.isdigit()):  # "²" is a digit to str.isdigit, not to int
        return None
    return int(value) if low <= int(value) <= high else None


def _time(value: str) -> time | None:
    found = re.fullmatch(r"(\d\d):(\d\d)", value.strip())
    if found is None or int(found.group(1)) > 23 or int(found.group(2)) > 59:
        return None
    return time(int(found.group(1)), int(found.group(2)))


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if len(value.strip()) == 10 else None
    except ValueError:
        return None


def body(post: dict[str, Any], form: Recurring, checked: Checked, zone: str) -> dict[str, Any]:
    """`POST /v1/campaigns`: the composed post (its content and targets) as the template."""
    assert checked.rule is not None  # only a checked recurrence is sent
    assert checked.start is not None
    return {
        "name": form.campaign_name.strip(),
        "recurrence": {
            "rule": checked.rule.text(),
            "timezone": zone,
            "starts_at": checked.start.isoformat(),
        },
        "template": {"content": post["content"], "targets": post["targets"]},
    }


def field_of(path: str, draft: compose.Draft) -> str:
    """The form field a violation is about: the recurrence's own, a template's as Compose's."""
    if path in _FIELDS:
        return _FIELDS[path]
    if path.startswith("recurrence"):
        return "recurrence"  # the rule as a whole (the API's `recurrence.rule`)
    return compose.field_of(path.removeprefix("template."), draft)


def by_field(violations: Sequence[Violation], draft: compose.Draft) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for v in violations:
        messages = fields.setdefault(field_of(v.path, draft), [])
        if v.message not in messages:
            messages.append(v.message)
    return fields


@dataclass(frozen=True)
class Described:
    """A campaign's recurrence as the Campaigns page says it."""

    words: str
    next_at: datetime | None = None  # UTC
    so_far: int | None = None  # occurrences due since it was created: its posts so far
    first_day: date | None = None  # the local day of its first post (the calendar's week)


def describe(
    rule_text: str, zone_name: str, starts_at: datetime, created_at: datetime, now: datetime
) -> Described:
    """In words, with the next occurrence and how many fell due since the campaign was made
    (the scheduler's pass creates one post per occurrence after that); a rule this console
    does not write is shown as written."""
    rule = recurrence.parse(rule_text)
    zone = zone_named(zone_name)
    if rule is None or zone is None:
        return Described(f"{rule_text} in {zone_name}, from {starts_at:%Y-%m-%d %H:%M}")
    first: datetime | None = None
    so_far = 0
    upcoming: datetime | None = None
    for moment in recurrence.moments(rule, starts_at, zone, created_at):  # one walk for all three
        first = first or moment
        if moment > now:
            upcoming = moment
            break
        so_far += 1
    return Described(
        f"{recurrence.words(rule, starts_at)} ({zone_name})",
        upcoming,
        so_far,
        None if first is None else first.astimezone(zone).date(),
    )
