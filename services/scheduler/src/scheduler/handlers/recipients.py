"""Recording what happens to each recipient of a WhatsApp post, and reading it back
(docs/adr/0008-audiences-broadcasts-and-delivery-statuses.md).

- A batch's result (`post.published`, or a final `post.failed`) carries an outcome per
  recipient (accepted, failed, skipped): each is a fact, one per (recipient, outcome, epoch).
- `message.status` carries WhatsApp's sent / delivered / read / failed: one fact per
  (recipient, status), whatever the event id, so a webhook replayed or re-emitted counts once.
- `message.recipient_flagged` suppresses the number for the business (opted out or
  undeliverable), so later broadcasts exclude every contact with it.

Only inserts; reads compute each recipient's furthest state (`scheduler.deliveries`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from pydantic import ValidationError

from herald.events import (
    MessageDelivered,
    MessageFailed,
    MessageRead,
    MessageSent,
    MessageStatusEvent,
    PostFailed,
    PostPublished,
    RecipientFlagged,
    RecipientOutcome,
)
from herald.topics import Platform
from scheduler.contacts import normalize_phone
from scheduler.deliveries import OUTCOME, RANK, STATUS, fact_id, parent_of, recipient_key
from scheduler.handlers.base import Deps
from scheduler.ports import Doc

log = structlog.get_logger(__name__)

STATUS_NAMES: dict[type[MessageStatusEvent], str] = {
    MessageSent: "sent",
    MessageDelivered: "delivered",
    MessageRead: "read",
    MessageFailed: "failed",
}


async def record_outcomes(
    deps: Deps, result: PostPublished | PostFailed, *, occurred_at: datetime
) -> list[str]:
    """Store the per-recipient outcomes of a WhatsApp batch's final result; the outcomes newly
    recorded (a redelivered result records nothing)."""
    if result.platform is not Platform.WHATSAPP:
        return []
    if isinstance(result, PostFailed) and not result.final:
        return []  # provisional: the batch will be tried again
    target = await deps.posts.get_target(result.target_id)
    if target is None or target["business_id"] != result.business_id:
        return []
    if occurred_at < target["epoch_started_at"]:
        return []  # an answer to a run before a person's retry
    outcomes = _outcomes(result)
    parent = parent_of(result.target_id)
    now = deps.clock()
    facts = [
        {
            **_fact_refs(result, parent, o.recipient_id),
            "_id": fact_id(
                recipient_key(parent, o.recipient_id), OUTCOME, o.status, target["epoch"]
            ),
            "kind": OUTCOME,
            "status": o.status,
            "epoch": target["epoch"],
            "message_id": o.message_id,
            "error": _error(o.error_code, o.error_message),
            "at": occurred_at,
            "recorded_at": now,
        }
        for o in outcomes
        if (OUTCOME, o.status) in RANK
    ]
    existed = await deps.recipients.add_facts(facts)
    return [f["status"] for i, f in enumerate(facts) if i not in existed]


def _outcomes(result: PostPublished | PostFailed) -> list[RecipientOutcome]:
    """The result's outcomes; a failure with nothing sent carries them in its evidence
    (ADR 0007), read tolerantly: an entry that is not an outcome is left out."""
    if result.recipients or isinstance(result, PostPublished):
        return list(result.recipients)
    found = []
    for entry in result.evidence.get("recipients") or []:
        try:
            found.append(RecipientOutcome.model_validate(entry))
        except ValidationError:
            log.warning("result.unreadable_outcome", target_id=result.target_id)
    return found


async def record_status(deps: Deps, event: MessageStatusEvent) -> tuple[str, bool]:
    """Store one delivery status; (status, whether it was new)."""
    status = STATUS_NAMES[type(event)]
    parent = parent_of(event.target_id)
    error = event.error if isinstance(event, MessageFailed) else None
    fact = {
        **_fact_refs(event, parent, event.recipient_id),
        "_id": fact_id(recipient_key(parent, event.recipient_id), STATUS, status),
        "kind": STATUS,
        "status": status,
        "epoch": None,
        "message_id": event.message_id,
        "error": None if error is None else error.model_dump(mode="json"),
        "at": event.status_at,
        "recorded_at": deps.clock(),
    }
    existed = await deps.recipients.add_facts([fact])
    return status, not existed


async def record_flag(deps: Deps, event: RecipientFlagged) -> str:
    """Suppress the flagged number for the business: `flagged`, `known` (it was already), or
    `no_number` (neither the event nor the recipient says which number)."""
    # WhatsApp names numbers without the +; contacts are stored in E.164.
    phone = None if event.to is None else normalize_phone(f"+{event.to.lstrip('+')}")
    if phone is None:
        key = recipient_key(parent_of(event.target_id), event.recipient_id)
        recipient = await deps.recipients.get_recipient(key)
        phone = None if recipient is None else recipient["to"]
    if phone is None:
        log.warning("recipient_flagged.no_number", recipient_id=event.recipient_id)
        return "no_number"
    added = await deps.audiences.add_suppression(
        suppression(
            event.business_id,
            phone,
            event.reason,
            source="whatsapp",
            at=event.flagged_at,
            detail={
                "code": event.error.code,
                "message": event.error.message,
                "post_id": event.post_id,
                "recipient_id": event.recipient_id,
            },
        )
    )
    return "flagged" if added else "known"


def suppression(
    business_id: str, phone: str, reason: str, *, source: str, at: datetime, detail: Doc
) -> Doc:
    return {
        "_id": f"{business_id}:{phone}:{reason}",
        "business_id": business_id,
        "phone": phone,
        "reason": reason,
        "source": source,
        "at": at,
        "detail": detail,
    }


def _fact_refs(event: Any, parent: str, recipient_id: str) -> Doc:
    return {
        "key": recipient_key(parent, recipient_id),
        "post_id": event.post_id,
        "business_id": event.business_id,
        "target_id": event.target_id,
        "recipient_id": recipient_id,
    }


def _error(code: str | None, message: str | None) -> Doc | None:
    return None if code is None and message is None else {"code": code, "message": message}


def group_facts(facts: Sequence[Doc]) -> dict[str, list[Doc]]:
    grouped: dict[str, list[Doc]] = {}
    for fact in facts:
        grouped.setdefault(fact["key"], []).append(fact)
    return grouped
