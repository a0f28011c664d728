"""The scheduler's records as its use cases see them: posts and their targets, changes to a
target, history entries, dispatch facts, rejected input and campaigns, as frozen dataclasses.

Only `scheduler.adapters` turn them into stored documents and back (the collections are in
docs/adr/0006-scheduler-dispatch-and-state.md), so the handlers, the domain rules and the
dispatcher are type-checked end to end. What a post says (its content) and how a platform should
carry it (a target's options) stay JSON (`JsonObject`): they are validated where they come in
(`PostSubmitted`) and where they go out (`PostRequested`); in between the scheduler carries them
and reads only the few options it acts on, through properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import Enum, StrEnum
from typing import Any, Final

from herald.events import FailureDetail, Schedule, Violation
from herald.topics import Platform
from herald.tracing import TraceContext
from scheduler.recurrence import Recurrence

JsonObject = dict[str, Any]  # a JSON payload carried as it came (content, options, details)


class TargetState(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    RETRYING = "retrying"
    PUBLISHED = "published"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Role(StrEnum):
    TARGET = "target"  # one account
    BROADCAST = "broadcast"  # WhatsApp to an audience: split into batches at its due time
    BATCH = "batch"  # up to N recipients of a broadcast, dispatched like a target


@dataclass(frozen=True)
class TargetSpec:
    """One target of a post, as submitted."""

    integration_id: str
    platform: Platform
    options: JsonObject

    @property
    def audience_id(self) -> str | None:
        audience = self.options.get("audience_id")
        return str(audience) if audience else None

    @property
    def role(self) -> Role:
        return Role.BROADCAST if self.audience_id else Role.TARGET


@dataclass(frozen=True)
class Post:
    id: str
    business_id: str
    idempotency_key: str
    fingerprint: str  # of the submission: tells a replay from a different post under one key
    source: str  # api, event or campaign
    content: JsonObject
    targets: tuple[TargetSpec, ...]
    schedule: Schedule  # the time asked for (in UTC) and its zone
    due_at: datetime
    draft: bool
    target_ids: tuple[str, ...]
    created_at: datetime
    campaign_id: str | None = None
    external_ref: str | None = None
    trace: TraceContext | None = None  # of the request or event that submitted it
    source_event_id: str | None = None  # the CloudEvents id of its `post.submitted`

    @property
    def platforms(self) -> list[str]:
        return sorted({t.platform.value for t in self.targets})

    @property
    def integration_ids(self) -> list[str]:
        return [t.integration_id for t in self.targets]

    @property
    def has_broadcast(self) -> bool:
        """Whether a target goes to an audience: its batch targets are added at its due time,
        so `target_ids` does not name every target the post will have."""
        return any(spec.role is Role.BROADCAST for spec in self.targets)


@dataclass(frozen=True)
class Batch:
    """What makes a target one batch of a broadcast."""

    parent_target_id: str
    number: int
    size: int | None  # recipients; None once its publication's outcomes took the stored field


@dataclass(frozen=True)
class Target:
    id: str
    post_id: str
    business_id: str
    index: int  # of the post's target it is (a batch: of its broadcast)
    integration_id: str
    platform: Platform
    due_at: datetime
    epoch: int  # 1, then one more for each retry a person asks for
    epoch_started_at: datetime
    state: TargetState
    updated_at: datetime
    role: Role = Role.TARGET
    attempts: int = 0
    last_error: FailureDetail | None = None
    platform_post_id: str | None = None
    permalink: str | None = None
    published_at: datetime | None = None
    failed_at: datetime | None = None
    next_attempt_at: datetime | None = None
    outcomes: tuple[JsonObject, ...] | None = None  # per recipient, from a WhatsApp result
    batch: Batch | None = None
    # Where the platform flow is while Herald waits (ADR 0018): stage, detail, bytes, at.
    stage: JsonObject | None = None
    # What a batch sends (its recipients): never stored with it, rebuilt to dispatch it.
    options: JsonObject | None = None

    @property
    def order(self) -> tuple[int, int]:
        """Submission order; a broadcast's batches after it, by number."""
        return self.index, self.batch.number if self.batch else 0


class Keep(Enum):
    """A field of `TargetChanges` left as stored (None is a value: it clears the field)."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


@dataclass(frozen=True)
class TargetChanges:
    """Fields of a stored target to write; the others stay as they are."""

    state: TargetState | Keep = KEEP
    attempts: int | Keep = KEEP
    epoch: int | Keep = KEEP
    epoch_started_at: datetime | Keep = KEEP
    due_at: datetime | Keep = KEEP
    last_error: FailureDetail | Keep | None = KEEP
    platform_post_id: str | Keep = KEEP
    permalink: str | Keep = KEEP
    published_at: datetime | Keep = KEEP
    failed_at: datetime | Keep = KEEP
    next_attempt_at: datetime | Keep = KEEP
    outcomes: tuple[JsonObject, ...] | Keep = KEEP
    stage: JsonObject | Keep = KEEP
    updated_at: datetime | Keep = KEEP

    def written(self) -> dict[str, Any]:
        """The fields to write, by name (the same names as `Target`'s)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: value for name, value in values.items() if value is not KEEP}

    @property
    def changed(self) -> bool:
        return bool(self.written())

    def applied(self, target: Target) -> Target:
        return replace(target, **self.written())


@dataclass(frozen=True)
class HistoryEntry:
    id: str  # deterministic, so a repeated event or step is recorded once
    post_id: str
    target_id: str | None
    kind: str  # post.scheduled, post.dispatched, post.published, ...
    at: datetime
    detail: JsonObject = field(default_factory=dict)
    recorded_at: datetime | None = None
    epoch: int | None = None


@dataclass(frozen=True)
class BroadcastSummary:
    """What an expansion made of a broadcast's audience."""

    batches: int
    recipients: int
    skipped: int
    excluded: dict[str, int]


@dataclass(frozen=True)
class DispatchFact:
    """A target's epoch was dispatched (the broker acknowledged it) or, for a broadcast,
    expanded into batches."""

    target_id: str
    post_id: str
    epoch: int
    due_at: datetime
    dispatched_at: datetime
    claim: str
    owner: str
    topic: str
    broadcast: BroadcastSummary | None = None


@dataclass(frozen=True)
class Rejection:
    """Input the scheduler could not accept, kept as it came (body and headers)."""

    id: str  # topic:partition:offset
    business_id: str | None
    source_event_id: str | None
    violations: list[Violation]
    body: bytes
    headers: dict[str, str]
    rejected_at: datetime
    # A rejected submission names its idempotency key (None when it could not be read).
    submission: bool = True
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Campaign:
    id: str
    business_id: str
    name: str
    description: str | None
    recurrence: Recurrence | None
    template: JsonObject | None  # a submission's content and targets, for each occurrence
    status: str  # active or ended
    created_at: datetime
    planned_until: datetime | None = None  # posts exist for occurrences up to here
    last_run_at: datetime | None = None
    last_problems: tuple[str, ...] = ()
