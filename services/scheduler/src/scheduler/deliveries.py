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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


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


def furthest(facts: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The fact that decides a recipient's state: highest rank, then latest epoch and time."""
    ranked = [f for f in facts if (f["kind"], f["status"]) in RANK]
    if not ranked:
        return None
    return max(ranked, key=lambda f: (RANK[(f["kind"], f["status"])], f.get("epoch") or 0, f["at"]))


def view(
    recipient: Mapping[str, Any],
    facts: Sequence[Mapping[str, Any]],
    batch: Mapping[str, Any] | None,
) -> RecipientView:
    """A recipient as a reader sees it: its furthest fact, else what its batch says."""
    base = {
        "recipient_id": recipient["recipient_id"],
        "contact_id": recipient.get("contact_id"),
        "to": recipient["to"],
        "target_id": recipient.get("target_id"),
    }
    best = furthest(facts)
    if best is not None:
        error = best.get("error") or {}
        message_id = best.get("message_id") or next(
            (f["message_id"] for f in facts if f.get("message_id")), None
        )
        return RecipientView(
            **base,
            state=STATES[(best["kind"], best["status"])],
            message_id=message_id,
            error_code=error.get("code"),
            error_message=error.get("message"),
            updated_at=best["at"],
        )
    return RecipientView(**base, **_without_facts(recipient, batch))


def _without_facts(recipient: Mapping[str, Any], batch: Mapping[str, Any] | None) -> dict[str, Any]:
    if recipient.get("state") == RecipientState.SKIPPED.value:
        error = recipient.get("error") or {}
        return {
            "state": RecipientState.SKIPPED,
            "error_code": error.get("code"),
            "error_message": error.get("message"),
            "updated_at": recipient.get("created_at"),
        }
    state = (batch or {}).get("state")
    if state == "failed":
        error = (batch or {}).get("last_error") or {}
        return {
            "state": RecipientState.FAILED,
            "error_code": error.get("code"),
            "error_message": error.get("message"),
            "updated_at": (batch or {}).get("updated_at"),
        }
    if state == "cancelled":
        return {"state": RecipientState.CANCELLED, "updated_at": (batch or {}).get("updated_at")}
    return {"state": RecipientState.PENDING}


def count(states: Iterable[RecipientState]) -> Counts:
    """Each recipient once by its state, and how many reached sent, delivered, read."""
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
    )


def mask(phone: str) -> str:
    """`+351*****5678`: enough to recognise a number in a report, not to message it."""
    if len(phone) <= 8:
        return phone[:2] + "*" * (len(phone) - 2)
    return phone[:4] + "*" * (len(phone) - 8) + phone[-4:]
