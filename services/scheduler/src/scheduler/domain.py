"""Pure rules of the post lifecycle: target states, monotonic transitions, the post's status,
and when a schedule falls due (docs/adr/0006-scheduler-dispatch-and-state.md).

A target moves `scheduled → dispatched → retrying → published | failed | cancelled` and never
back within one dispatch epoch. A person may retry a failed target: that opens a new epoch, and
only events newer than the epoch's start can move it. Drafts sit outside the machine until they
are scheduled.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from herald.events import FailureDetail, Schedule, Violation
from herald.inputs import moment_problem, zone_named
from scheduler.models import KEEP, JsonObject, Keep, Target, TargetChanges, TargetState

T = TypeVar("T")


class PostStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    PARTIALLY_PUBLISHED = "partially_published"
    FAILED = "failed"
    CANCELLED = "cancelled"


# A higher rank wins. Failed and cancelled are terminal at the same rank; a platform that later
# confirms a post (an `unknown` outcome reconciled) may still turn failed into published, never
# the other way round.
RANK: dict[TargetState, int] = {
    TargetState.DRAFT: -1,
    TargetState.SCHEDULED: 0,
    TargetState.DISPATCHED: 1,
    TargetState.RETRYING: 2,
    TargetState.FAILED: 3,
    TargetState.CANCELLED: 3,
    TargetState.PUBLISHED: 4,
}
TERMINAL = frozenset({TargetState.PUBLISHED, TargetState.FAILED, TargetState.CANCELLED})
ACTIVE = frozenset({TargetState.SCHEDULED, TargetState.DISPATCHED, TargetState.RETRYING})


@dataclass(frozen=True)
class Reported:
    """What a result says about a target besides its state; None where it says nothing."""

    platform_post_id: str | None = None
    permalink: str | None = None
    published_at: datetime | None = None
    outcomes: tuple[JsonObject, ...] | None = None
    last_error: FailureDetail | None = None
    failed_at: datetime | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class Observation:
    """What an event says about a target: its state, attempt and any data to record."""

    state: TargetState
    attempt: int = 0
    data: Reported = Reported()


@dataclass(frozen=True)
class Transition:
    """The outcome of applying an observation: the new state (maybe unchanged) and the fields
    to write; `changed` is False for a duplicate or an older event."""

    state: TargetState
    changes: TargetChanges

    @property
    def changed(self) -> bool:
        return self.changes.changed


def advance(target: Target, seen: Observation) -> Transition:
    """Apply `seen` to `target` (its state, attempts and what it has recorded).

    Moves forward only. A repeated `published` fills in data the target lacks (TikTok's public
    id arrives late) without changing state or rewriting what is known; a `retrying` with a
    later attempt raises the attempt count; anything older or repeated changes nothing.
    """
    current = target.state
    if current is TargetState.DRAFT:
        return Transition(current, TargetChanges())
    if RANK[seen.state] > RANK[current]:
        changes = replace(_said(seen.data, target), state=seen.state)
    elif seen.state is current is TargetState.RETRYING and seen.attempt > target.attempts:
        changes = _said(seen.data, target)
    elif seen.state is current is TargetState.PUBLISHED:
        changes = _said(seen.data, target, only_missing=True)
    else:
        return Transition(current, TargetChanges())
    if changes.changed and seen.attempt > target.attempts:
        changes = replace(changes, attempts=seen.attempt)
    return Transition(current if changes.state is KEEP else changes.state, changes)


def _said(data: Reported, target: Target, *, only_missing: bool = False) -> TargetChanges:
    """The fields `data` gives a value; with `only_missing`, those `target` has none of."""

    def write(value: T | None, recorded: object) -> T | Keep:
        if value is None or (only_missing and recorded is not None):
            return KEEP
        return value

    return TargetChanges(
        platform_post_id=write(data.platform_post_id, target.platform_post_id),
        permalink=write(data.permalink, target.permalink),
        published_at=write(data.published_at, target.published_at),
        # A batch's recipient count is stored where its outcomes go: it counts as recorded.
        outcomes=write(data.outcomes, target.outcomes or target.batch),
        last_error=write(data.last_error, target.last_error),
        failed_at=write(data.failed_at, target.failed_at),
        next_attempt_at=write(data.next_attempt_at, target.next_attempt_at),
    )


def post_status(states: list[TargetState]) -> PostStatus:
    """The post's status from its targets' states."""
    if not states:
        return PostStatus.SCHEDULED
    if all(s is TargetState.DRAFT for s in states):
        return PostStatus.DRAFT
    if all(s is TargetState.CANCELLED for s in states):
        return PostStatus.CANCELLED
    live = [s for s in states if s is not TargetState.CANCELLED]
    if any(s in ACTIVE for s in live):
        started = any(s is not TargetState.SCHEDULED for s in live)
        return PostStatus.PUBLISHING if started else PostStatus.SCHEDULED
    published = sum(1 for s in live if s is TargetState.PUBLISHED)
    if published == len(live):
        return PostStatus.PUBLISHED
    return PostStatus.PARTIALLY_PUBLISHED if published else PostStatus.FAILED


def effective_state(stored: TargetState, dispatched: bool) -> TargetState:
    """The dispatcher records dispatches as separate facts (insert-only, see the ADR); a target
    whose stored state is still `scheduled` but has a dispatch fact reads `dispatched`."""
    if dispatched and stored is TargetState.SCHEDULED:
        return TargetState.DISPATCHED
    return stored


@dataclass(frozen=True)
class DueTime:
    due_at: datetime
    requested_at: datetime | None
    timezone: str | None


PAST_SKEW = timedelta(minutes=5)
"""How far in the past a publish time may be and still mean "now": clocks that disagree a
little, a request that took a while to arrive. Further back is a mistake, refused (issue 16)."""


def resolve_schedule(
    schedule: Schedule, now: datetime, *, past_skew: timedelta | None = PAST_SKEW
) -> DueTime | list[Violation]:
    """When a schedule falls due, in UTC, or why it cannot be read.

    A time without an offset is read in `timezone` (required then). A local time that does not
    exist (skipped by a daylight-saving change) is refused rather than guessed; an ambiguous one
    (repeated) is read as its first occurrence. A time up to `past_skew` in the past means now;
    further back it is refused (`past_skew` None: any past time means now, for a campaign's
    occurrences, which have their own grace). A zone is one the zone database lists and a time
    is within the years 1900-2999 (`herald.inputs`).
    """
    zone: ZoneInfo | None = None
    if schedule.timezone is not None:
        zone = zone_named(schedule.timezone)
        if zone is None:
            message = f"{schedule.timezone!r} is not an IANA time zone (e.g. Europe/Lisbon)."
            return [Violation(path="schedule.timezone", message=message, code="invalid_format")]
    at = schedule.publish_at
    if at is None:
        return DueTime(now, None, schedule.timezone)
    problem = moment_problem(at)
    if problem is not None:
        message = f"Give the publish time as {problem}."
        return [Violation(path="schedule.publish_at", message=message, code="out_of_range")]
    if at.tzinfo is None:
        if zone is None:
            message = "A publish time without a UTC offset needs a time zone in schedule.timezone."
            return [Violation(path="schedule.timezone", message=message, code="required")]
        local = at.replace(tzinfo=zone)
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != at:
            message = (
                f"{at.isoformat()} does not exist in {schedule.timezone} (the clocks skip it "
                "for daylight saving time); choose another time."
            )
            return [Violation(path="schedule.publish_at", message=message, code="out_of_range")]
        at = local
    requested = at.astimezone(UTC)
    past = None if past_skew is None else _too_early(requested, now, past_skew)
    return [past] if past else DueTime(max(requested, now), requested, schedule.timezone)


def _too_early(requested: datetime, now: datetime, past_skew: timedelta) -> Violation | None:
    if requested >= now - past_skew:
        return None
    minutes = past_skew.total_seconds() / 60
    message = (
        f"{requested.isoformat()} is in the past (more than {minutes:g} minutes before now, "
        f"{now.replace(microsecond=0).isoformat()}): give a future time, or omit publish_at "
        "to publish now."
    )
    return Violation(path="schedule.publish_at", message=message, code="in_the_past")


def request_fingerprint(payload: dict[str, Any]) -> str:
    """A stable hash of a submission, to tell a replay from a different body under the same key."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def target_id(post_id: str, index: int) -> str:
    return f"{post_id}-{index}"


def claim_id(target: str, epoch: int, generation: int) -> str:
    return f"{target}:{epoch}:{generation}"


def dispatch_id(target: str, epoch: int) -> str:
    return f"{target}:{epoch}"


def is_stale(claimed_at: datetime, now: datetime, lease_s: float) -> bool:
    return now - claimed_at > timedelta(seconds=lease_s)
