"""The pure rules: monotonic transitions, the derived post status, reading schedules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from herald.events import Schedule
from herald.topics import Platform
from scheduler.domain import (
    DueTime,
    Observation,
    PostStatus,
    Reported,
    advance,
    effective_state,
    post_status,
    request_fingerprint,
    resolve_schedule,
)
from scheduler.models import Batch, Target, TargetChanges, TargetState

pytestmark = pytest.mark.unit


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock time without offset, read in a time zone by the code under test."""
    return datetime(year, month, day, hour, minute)  # noqa: DTZ001 - naive on purpose


S = TargetState
C = TargetChanges
NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def target(state: TargetState, attempts: int = 0, **recorded: Any) -> Target:
    return Target(
        id="p-0",
        post_id="p",
        business_id="b",
        index=0,
        integration_id="fb-1",
        platform=Platform.FACEBOOK,
        due_at=NOW,
        epoch=1,
        epoch_started_at=NOW,
        state=state,
        updated_at=NOW,
        attempts=attempts,
        **recorded,
    )


@pytest.mark.parametrize(
    ("current", "attempts", "seen", "state", "changes"),
    [
        (S.SCHEDULED, 0, Observation(S.DISPATCHED), S.DISPATCHED, C(state=S.DISPATCHED)),
        (S.DISPATCHED, 0, Observation(S.RETRYING, 1), S.RETRYING, C(state=S.RETRYING, attempts=1)),
        (
            S.RETRYING,
            1,
            Observation(S.RETRYING, 2, Reported(next_attempt_at=LATER)),
            S.RETRYING,
            C(next_attempt_at=LATER, attempts=2),
        ),
        (S.RETRYING, 2, Observation(S.RETRYING, 1), S.RETRYING, C()),
        (S.RETRYING, 2, Observation(S.RETRYING, 2), S.RETRYING, C()),
        (S.RETRYING, 2, Observation(S.DISPATCHED), S.RETRYING, C()),
        (
            S.SCHEDULED,
            0,
            Observation(S.PUBLISHED, 1, Reported(platform_post_id="x")),
            S.PUBLISHED,
            C(state=S.PUBLISHED, platform_post_id="x", attempts=1),
        ),
        (S.PUBLISHED, 1, Observation(S.RETRYING, 2), S.PUBLISHED, C()),
        (S.PUBLISHED, 1, Observation(S.FAILED, 2), S.PUBLISHED, C()),
        (S.PUBLISHED, 1, Observation(S.DISPATCHED), S.PUBLISHED, C()),
        (S.FAILED, 3, Observation(S.RETRYING, 4), S.FAILED, C()),
        (S.FAILED, 3, Observation(S.PUBLISHED, 3), S.PUBLISHED, C(state=S.PUBLISHED)),
        (S.CANCELLED, 0, Observation(S.FAILED, 1), S.CANCELLED, C()),
        (S.DRAFT, 0, Observation(S.PUBLISHED, 1), S.DRAFT, C()),
    ],
)
def test_targets_only_move_forward(
    current: TargetState,
    attempts: int,
    seen: Observation,
    state: TargetState,
    changes: TargetChanges,
) -> None:
    transition = advance(target(current, attempts), seen)
    assert transition.state is state
    assert transition.changes == changes
    assert transition.changed is (changes != C())


def test_a_repeated_publication_fills_in_only_what_is_missing() -> None:
    recorded = target(S.PUBLISHED, 1, platform_post_id="v1")
    seen = Observation(S.PUBLISHED, 1, Reported(platform_post_id="other", permalink="https://x/1"))
    transition = advance(recorded, seen)
    assert transition.state is S.PUBLISHED
    assert transition.changes == C(permalink="https://x/1")
    known = target(S.PUBLISHED, 1, platform_post_id="v1", permalink="p")
    assert advance(known, seen).changed is False


def test_a_batch_keeps_its_recipient_count_when_a_publication_repeats() -> None:
    outcomes = ({"recipient_id": "ct_1", "status": "accepted"},)
    seen = Observation(S.PUBLISHED, 1, Reported(outcomes=outcomes))
    batch = target(S.PUBLISHED, 1, batch=Batch("p-0", 1, 3))
    assert advance(batch, seen).changed is False
    assert advance(target(S.PUBLISHED, 1), seen).changes == C(outcomes=outcomes)
    assert advance(target(S.DISPATCHED, 0, batch=Batch("p-0", 1, 3)), seen).changes == C(
        state=S.PUBLISHED, outcomes=outcomes, attempts=1
    )


@pytest.mark.parametrize(
    ("states", "status"),
    [
        ([], PostStatus.SCHEDULED),
        ([S.DRAFT, S.DRAFT], PostStatus.DRAFT),
        ([S.SCHEDULED, S.SCHEDULED], PostStatus.SCHEDULED),
        ([S.SCHEDULED, S.CANCELLED], PostStatus.SCHEDULED),
        ([S.SCHEDULED, S.DISPATCHED], PostStatus.PUBLISHING),
        ([S.RETRYING, S.PUBLISHED], PostStatus.PUBLISHING),
        ([S.PUBLISHED, S.PUBLISHED], PostStatus.PUBLISHED),
        ([S.PUBLISHED, S.CANCELLED], PostStatus.PUBLISHED),
        ([S.PUBLISHED, S.FAILED], PostStatus.PARTIALLY_PUBLISHED),
        ([S.FAILED, S.FAILED], PostStatus.FAILED),
        ([S.FAILED, S.CANCELLED], PostStatus.FAILED),
        ([S.CANCELLED, S.CANCELLED], PostStatus.CANCELLED),
    ],
)
def test_post_status_is_derived_from_targets(states: list[TargetState], status: PostStatus) -> None:
    assert post_status(states) is status


def test_a_recorded_dispatch_reads_as_dispatched_only_while_scheduled() -> None:
    assert effective_state(S.SCHEDULED, dispatched=True) is S.DISPATCHED
    assert effective_state(S.SCHEDULED, dispatched=False) is S.SCHEDULED
    assert effective_state(S.PUBLISHED, dispatched=True) is S.PUBLISHED


@pytest.mark.parametrize(
    ("publish_at", "zone", "due"),
    [
        (None, None, NOW),
        (local(2030, 7, 1, 9, 0), "Europe/Lisbon", datetime(2030, 7, 1, 8, 0, tzinfo=UTC)),
        (local(2030, 12, 1, 9, 0), "Europe/Lisbon", datetime(2030, 12, 1, 9, 0, tzinfo=UTC)),
        (local(2030, 7, 1, 9, 0), "America/New_York", datetime(2030, 7, 1, 13, 0, tzinfo=UTC)),
        (
            datetime(2030, 7, 1, 9, 0, tzinfo=UTC),
            "Asia/Tokyo",
            datetime(2030, 7, 1, 9, 0, tzinfo=UTC),
        ),
        # ambiguous: 01:30 happens twice when clocks go back; the first one is meant
        (local(2030, 10, 27, 1, 30), "Europe/Lisbon", datetime(2030, 10, 27, 0, 30, tzinfo=UTC)),
        (NOW - timedelta(minutes=2), "UTC", NOW),  # a moment ago (clock skew, transit): now
    ],
)
def test_schedules_resolve_in_their_zone(
    publish_at: datetime | None, zone: str | None, due: datetime
) -> None:
    resolved = resolve_schedule(Schedule(publish_at=publish_at, timezone=zone), NOW)
    assert isinstance(resolved, DueTime)
    assert resolved.due_at == due


AT = ("schedule.publish_at", "out_of_range")


@pytest.mark.parametrize(
    ("publish_at", "zone", "path", "code"),
    [
        (local(2030, 7, 1, 9, 0), None, "schedule.timezone", "required"),
        (local(2030, 7, 1, 9, 0), "Nowhere/City", "schedule.timezone", "invalid_format"),
        (local(2030, 3, 31, 1, 30), "Europe/Lisbon", "schedule.publish_at", "out_of_range"),
        # issue 19: each of these raised (OverflowError, IsADirectoryError) and answered 500
        (datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))), None, *AT),
        (datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=1))), None, *AT),
        (local(9999, 12, 31, 23, 0), "America/New_York", *AT),
        (local(1, 1, 1, 0, 0), "Asia/Tokyo", *AT),
        (local(2030, 7, 1, 9, 0), "Europe", "schedule.timezone", "invalid_format"),
        (local(2030, 7, 1, 9, 0), "../../../etc/passwd", "schedule.timezone", "invalid_format"),
    ],
)
def test_unreadable_schedules_say_why(
    publish_at: datetime, zone: str | None, path: str, code: str
) -> None:
    resolved = resolve_schedule(Schedule(publish_at=publish_at, timezone=zone), NOW)
    assert isinstance(resolved, list)
    assert [(v.path, v.code) for v in resolved] == [(path, code)]


@pytest.mark.parametrize(
    ("publish_at", "zone"),
    [
        (datetime(2020, 3, 1, 9, 0, tzinfo=UTC), None),
        (NOW - timedelta(minutes=6), None),
        (local(2020, 3, 1, 9, 0), "Europe/Lisbon"),
    ],
)
def test_a_publish_time_well_in_the_past_is_refused(publish_at: datetime, zone: str | None) -> None:
    """Issue 16: 2020 was accepted and published at once; a time more than the skew ago is a
    mistake to report, not a request to publish now."""
    resolved = resolve_schedule(Schedule(publish_at=publish_at, timezone=zone), NOW)

    assert isinstance(resolved, list)
    [violation] = resolved
    assert (violation.path, violation.code) == ("schedule.publish_at", "in_the_past")
    assert "in the past" in violation.message
    assert "omit publish_at" in violation.message


def test_a_campaign_occurrence_may_be_late_within_its_own_grace() -> None:
    late = NOW - timedelta(minutes=30)
    resolved = resolve_schedule(Schedule(publish_at=late), NOW, past_skew=None)

    assert isinstance(resolved, DueTime)
    assert (resolved.due_at, resolved.requested_at) == (NOW, late)


def test_fingerprints_ignore_key_order_but_not_content() -> None:
    assert request_fingerprint({"a": 1, "b": [1, 2]}) == request_fingerprint({"b": [1, 2], "a": 1})
    assert request_fingerprint({"a": 1}) != request_fingerprint({"a": 2})
