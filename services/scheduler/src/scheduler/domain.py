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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from herald.events import Schedule, Violation


class TargetState(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    RETRYING = "retrying"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"


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
class Observation:
    """What an event says about a target: its state, attempt and any data to record."""

    state: TargetState
    attempt: int = 0
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    """The outcome of applying an observation: the new state (maybe unchanged) and the fields
    to write; `changed` is False for a duplicate or an older event."""

    state: TargetState
    changes: dict[str, Any]

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def advance(
    current: TargetState, attempts: int, recorded: Mapping[str, Any], seen: Observation
) -> Transition:
    """Apply `seen` to a target in `current` state with `attempts` attempts and `recorded` data.

    Moves forward only. A repeated `published` fills in data the target lacks (TikTok's public
    id arrives late) without changing state or rewriting what is known; a `retrying` with a
    later attempt raises the attempt count; anything older or repeated changes nothing.
    """
    data = {k: v for k, v in seen.data.items() if v is not None}
    changes: dict[str, Any] = {}
    if current is TargetState.DRAFT:
        return Transition(current, {})
    if RANK[seen.state] > RANK[current]:
        changes = {"state": seen.state.value, **data}
    elif seen.state is current is TargetState.RETRYING and seen.attempt > attempts:
        changes = dict(data)
    elif seen.state is current is TargetState.PUBLISHED:
        changes = {k: v for k, v in data.items() if recorded.get(k) is None}
    if changes and seen.attempt > attempts:
        changes["attempts"] = seen.attempt
    return Transition(TargetState(changes.get("state", current)), changes)


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


def resolve_schedule(schedule: Schedule, now: datetime) -> DueTime | list[Violation]:
    """When a schedule falls due, in UTC, or why it cannot be read.

    A time without an offset is read in `timezone` (required then). A local time that does not
    exist (skipped by a daylight-saving change) is refused rather than guessed; an ambiguous one
    (repeated) is read as its first occurrence. A time in the past means now.
    """
    zone: ZoneInfo | None = None
    if schedule.timezone is not None:
        try:
            zone = ZoneInfo(schedule.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            message = f"{schedule.timezone!r} is not an IANA time zone (e.g. Europe/Lisbon)."
            return [Violation(path="schedule.timezone", message=message, code="invalid_format")]
    at = schedule.publish_at
    if at is None:
        return DueTime(now, None, schedule.timezone)
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
    return DueTime(max(requested, now), requested, schedule.timezone)


def request_fingerprint(payload: dict[str, Any]) -> str:
    """A stable hash of a submission, to tell a replay from a different body under the same key."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def target_id(post_id: str, index: int) -> str:
    return f"{post_id}-{index}"


def has_broadcast(post: dict[str, Any]) -> bool:
    """Whether a target of `post` goes to an audience: its batch targets are added at its due
    time, so `post["target_ids"]` does not name every target it will have."""
    return any((spec.get("options") or {}).get("audience_id") for spec in post["targets"])


def claim_id(target: str, epoch: int, generation: int) -> str:
    return f"{target}:{epoch}:{generation}"


def dispatch_id(target: str, epoch: int) -> str:
    return f"{target}:{epoch}"


def is_stale(claimed_at: datetime, now: datetime, lease_s: float) -> bool:
    return now - claimed_at > timedelta(seconds=lease_s)
