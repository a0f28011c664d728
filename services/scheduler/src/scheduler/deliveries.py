"""What became of each recipient of a WhatsApp post, from insert-only facts
(docs/adr/0008-audiences-broadcasts-and-delivery-statuses.md).

Every result and status is stored as its own fact under a unique id: one per (recipient,
outcome, epoch) from `post.published`/`post.failed`, one per (recipient, status) from
`message.status`. A recipient's state is its furthest fact by rank, so duplicates, late and
reordered events change nothing once a further one is known:

    skipped < failed (not sent) < accepted < sent < failed (after sending) < delivered < read

A delivery failure after `sent` outranks it; `delivered`/`read` outrank a failure (the phone
confirmed the message). With no fact yet, the recipient's batch decides: pending while it is
active, failed (with the batch's error) or cancelled when it ended without per-recipient news.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from scheduler.models import JsonObject, Target, TargetState


class RecipientState(StrEnum):
    PENDING = "pending"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    FAILED = "failed"
    ACCEPTED = "accepted"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"


OUTCOME, STATUS = "outcome", "status"
RANK: dict[tuple[str, str], int] = {
    (OUTCOME, "skipped"): 1,
    (OUTCOME, "failed"): 2,
    (OUTCOME, "accepted"): 3,
    (STATUS, "sent"): 4,
    (STATUS, "failed"): 5,
    (STATUS, "delivered"): 6,
    (STATUS, "read"): 7,
}
STATES: dict[tuple[str, str], RecipientState] = {
    (OUTCOME, "skipped"): RecipientState.SKIPPED,
    (OUTCOME, "failed"): RecipientState.FAILED,
    (OUTCOME, "accepted"): RecipientState.ACCEPTED,
    (STATUS, "sent"): RecipientState.SENT,
    (STATUS, "failed"): RecipientState.FAILED,
    (STATUS, "delivered"): RecipientState.DELIVERED,
    (STATUS, "read"): RecipientState.READ,
}
REACHED = {
    "sent": (RecipientState.SENT, RecipientState.DELIVERED, RecipientState.READ),
    "delivered": (RecipientState.DELIVERED, RecipientState.READ),
    "read": (RecipientState.READ,),
}


@dataclass(frozen=True)
class Recipient:
    """One person a WhatsApp target sends to: a contact of a broadcast's audience, or one the
    target lists itself."""

    parent_target_id: str  # the broadcast, or the target that lists it
    recipient_id: str
    post_id: str
    business_id: str
    target_id: str | None  # the batch that carries it; None while skipped
    contact_id: str | None  # None for one the target lists itself
    to: str
    batch: int | None
    state: str  # queued or skipped
    created_at: datetime
    name: str | None = None
    components: list[JsonObject] | None = None  # its own template components
    error: dict[str, str] | None = None  # why it was skipped: code and message
    epoch: int | None = None  # of the broadcast, when it was planned

    @property
    def key(self) -> str:
        return recipient_key(self.parent_target_id, self.recipient_id)


@dataclass(frozen=True)
class Fact:
    """Something that happened to a recipient: an outcome of its batch, or a status."""

    key: str  # the recipient's
    kind: str  # OUTCOME or STATUS
    status: str
    at: datetime
    epoch: int | None = None  # outcomes: the dispatch epoch they answer
    message_id: str | None = None
    error: JsonObject | None = None

    @property
    def id(self) -> str:
        return fact_id(self.key, self.kind, self.status, self.epoch)

    @property
    def rank(self) -> int | None:
        return RANK.get((self.kind, self.status))


@dataclass(frozen=True)
class RecordedFact:
    """A fact as it is recorded: with the post, target and recipient it is about."""

    fact: Fact
    post_id: str
    business_id: str
    target_id: str
    recipient_id: str
    recorded_at: datetime


@dataclass(frozen=True)
class RecipientView:
    recipient_id: str
    contact_id: str | None
    to: str
    target_id: str | None
    state: RecipientState
    message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class Counts:
    recipients: int
    by_state: dict[str, int]
    sent: int
    delivered: int
    read: int
    failed: int
    accepted: int = 0  # given a message id by WhatsApp, whatever became of them since


def recipient_key(parent_target_id: str, recipient_id: str) -> str:
    return f"{parent_target_id}/{recipient_id}"


def fact_id(key: str, kind: str, status: str, epoch: int | None = None) -> str:
    """Statuses are once per recipient; outcomes once per recipient and dispatch epoch."""
    suffix = f"{kind}:{status}" if epoch is None else f"{kind}:{status}:{epoch}"
    return f"{key}/{suffix}"


def parent_of(target_id: str) -> str:
    """A batch `<post>-<i>.<k>` belongs to the broadcast target `<post>-<i>`; any other target
    is its own parent."""
    return target_id.split(".", 1)[0]


def batch_target_id(parent_target_id: str, batch: int) -> str:
    return f"{parent_target_id}.{batch}"


def furthest(facts: Iterable[Fact]) -> Fact | None:
    """The fact that decides a recipient's state: highest rank, then latest epoch and time."""
    ranked = [f for f in facts if f.rank is not None]
    if not ranked:
        return None
    return max(ranked, key=lambda f: (f.rank or 0, f.epoch or 0, f.at))


def view(recipient: Recipient, facts: Sequence[Fact], batch: Target | None) -> RecipientView:
    """A recipient as a reader sees it: its furthest fact, else what its batch says."""
    pending = RecipientView(
        recipient_id=recipient.recipient_id,
        contact_id=recipient.contact_id,
        to=recipient.to,
        target_id=recipient.target_id,
        state=RecipientState.PENDING,
    )
    best = furthest(facts)
    if best is not None:
        error = best.error or {}
        message_id = best.message_id or next((f.message_id for f in facts if f.message_id), None)
        return replace(
            pending,
            state=STATES[(best.kind, best.status)],
            message_id=message_id,
            error_code=error.get("code"),
            error_message=error.get("message"),
            updated_at=best.at,
        )
    if recipient.state == RecipientState.SKIPPED.value:
        skipped = recipient.error or {}
        return replace(
            pending,
            state=RecipientState.SKIPPED,
            error_code=skipped.get("code"),
            error_message=skipped.get("message"),
            updated_at=recipient.created_at,
        )
    return _as_batch_ended(pending, batch)


def _as_batch_ended(pending: RecipientView, batch: Target | None) -> RecipientView:
    """Without news of its own, a recipient of a failed or cancelled batch shares its end."""
    if batch is not None and batch.state is TargetState.FAILED:
        failure = batch.last_error
        return replace(
            pending,
            state=RecipientState.FAILED,
            error_code=failure.code if failure else None,
            error_message=failure.message if failure else None,
            updated_at=batch.updated_at,
        )
    if batch is not None and batch.state is TargetState.CANCELLED:
        return replace(pending, state=RecipientState.CANCELLED, updated_at=batch.updated_at)
    return pending


def count(states: Iterable[RecipientState], *, accepted: int = 0) -> Counts:
    """Each recipient once by its state, and how many reached sent, delivered, read;
    `accepted`: how many WhatsApp gave a message id (a failed one may have had one)."""
    tally = Counter(states)
    by_state = {s.value: tally.get(s, 0) for s in RecipientState}
    reached = {name: sum(tally.get(s, 0) for s in kinds) for name, kinds in REACHED.items()}
    return Counts(
        recipients=sum(tally.values()),
        by_state=by_state,
        sent=reached["sent"],
        delivered=reached["delivered"],
        read=reached["read"],
        failed=tally.get(RecipientState.FAILED, 0),
        accepted=accepted,
    )


def mask(phone: str) -> str:
    """`+351*****5678`: enough to recognise a number in a report, not to message it."""
    if len(phone) <= 8:
        return phone[:2] + "*" * (len(phone) - 2)
    return phone[:4] + "*" * (len(phone) - 8) + phone[-4:]
