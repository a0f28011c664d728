"""The calendar, without the web framework: which days a view covers (a day or a Monday-to-Sunday
week in the business's zone), the filters a person may set (each refused by name when it is not
one the scheduler knows), the posts grouped by their local day, and what can be done to each
post (the scheduler's routes: retry failed targets, cancel what is not dispatched yet, schedule
a draft, move a post whose every target still waits)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from console.views import PostRow
from herald.rules.common import PLATFORM_NAMES

STATUSES = {
    "draft": "Draft",
    "scheduled": "Scheduled",
    "publishing": "Publishing",
    "published": "Published",
    "partially_published": "Partially published",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
PAGE_SIZE = 100  # posts per page: the page's server time stays bounded whatever the history
_CAMPAIGN = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


@dataclass(frozen=True)
class View:
    """What the person asked to see, checked: `problems` names each refused field."""

    kind: str  # "day" or "week"
    day: date
    platform: str = ""
    status: str = ""
    campaign: str = ""
    cursor: str = ""
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def first(self) -> date:
        return self.day if self.kind == "day" else self.day - timedelta(days=self.day.weekday())

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(1 if self.kind == "day" else 7)]

    @property
    def step(self) -> timedelta:
        return timedelta(days=1 if self.kind == "day" else 7)

    def query(self, zone: ZoneInfo) -> dict[str, str]:
        """`GET /v1/posts` parameters: the view's days from local midnight to local midnight."""
        start = datetime.combine(self.first, time(), zone)
        end = datetime.combine(self.first + self.step, time(), zone)
        chosen = {
            "platform": self.platform,
            "status": self.status,
            "campaign_id": self.campaign,
            "cursor": self.cursor,
        }
        return {
            "due_from": start.isoformat(),
            "due_to": end.isoformat(),
            "limit": str(PAGE_SIZE),
        } | {name: value for name, value in chosen.items() if value}

    def link(self, **changes: str) -> str:
        """The calendar's address for this view with some parameters changed (no cursor)."""
        values = {
            "view": self.kind,
            "day": self.day.isoformat(),
            "platform": self.platform,
            "status": self.status,
            "campaign": self.campaign,
        } | changes
        return "/calendar?" + urlencode({k: v for k, v in values.items() if v})


def read_view(params: Mapping[str, str], today: date) -> View:
    """The view from the query string; a value the scheduler would refuse is named, and the
    calendar falls back to showing without it."""
    problems: dict[str, str] = {}
    kind = params.get("view") or "week"
    if kind not in ("day", "week"):
        problems["view"] = f"view must be day or week, not {kind[:20]!r}."
        kind = "week"
    day = today
    if params.get("day"):
        try:
            day = date.fromisoformat(params["day"])
        except ValueError:
            problems["day"] = "day must be a date such as 2026-12-07."
    platform = params.get("platform", "")
    if platform and platform not in {p.value for p in PLATFORM_NAMES}:
        problems["platform"] = "platform must be one of " + ", ".join(
            p.value for p in PLATFORM_NAMES
        )
        platform = ""
    status = params.get("status", "")
    if status and status not in STATUSES:
        problems["status"] = "status must be one of " + ", ".join(STATUSES) + "."
        status = ""
    campaign = params.get("campaign", "").strip()
    if campaign and not _CAMPAIGN.fullmatch(campaign):
        problems["campaign"] = (
            "campaign must be a campaign id: letters, digits, . _ : - (64 at most)."
        )
        campaign = ""
    cursor = params.get("cursor", "")[:512]
    return View(kind, day, platform, status, campaign, cursor, problems)


@dataclass(frozen=True)
class Day:
    day: date
    rows: list[PostRow]


def by_day(rows: Sequence[PostRow], view: View, zone: ZoneInfo) -> list[Day]:
    """Each day of the view with its posts, earliest first (days without posts included)."""
    days: dict[date, list[PostRow]] = {d: [] for d in view.days}
    for row in sorted(rows, key=lambda r: r.post.due_at):
        local = row.post.due_at.astimezone(zone).date()
        if local in days:
            days[local].append(row)
    return [Day(d, found) for d, found in days.items()]


def actions(row: PostRow) -> list[str]:
    """The scheduler's routes that would change this post now: retry (a failed target), cancel
    (a draft or scheduled target), schedule (a draft)."""
    states = {t.target.state for t in row.targets}
    found = []
    if "failed" in states:
        found.append("retry")
    if row.post.status == "draft":
        found.append("schedule")
    if states & {"draft", "scheduled"}:
        found.append("cancel")
    return found


@dataclass(frozen=True)
class Moving:
    """A *Reschedule* form sent back to its post: what was typed and why it was refused."""

    post_id: str
    publish_at: str
    problem: str


def movable(row: PostRow) -> bool:
    """Whether the scheduler would move this post: scheduled, every target still waiting (a
    target dispatched, published or cancelled keeps the post where it is)."""
    states = {t.target.state for t in row.targets}
    return row.post.status == "scheduled" and states == {"scheduled"}


def input_value(moment: datetime, zone: ZoneInfo) -> str:
    """A time as a datetime-local input shows it, in the business's zone."""
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


def reschedule_body(publish_at: str, zone: str, now: datetime) -> dict[str, str] | str:
    """The scheduler's reschedule body for a datetime-local value read in `zone`, or what is
    wrong with it (the scheduler checks it again and stays the authority)."""
    value = publish_at.strip()
    try:
        local = datetime.fromisoformat(value) if value else None
    except ValueError:
        local = None
    if local is None or local.tzinfo is not None:
        return "Give the new date and time to publish at."
    if local.replace(tzinfo=ZoneInfo(zone)) <= now:
        return "This time has passed: choose a later one."
    return {"publish_at": local.isoformat(timespec="seconds"), "timezone": zone}
