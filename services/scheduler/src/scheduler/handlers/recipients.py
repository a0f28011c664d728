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
    TargetRef,
)
from herald.topics import Platform
from scheduler.contacts import Suppression, normalize_phone
from scheduler.deliveries import (
    OUTCOME,
    RANK,
    STATUS,
    Fact,
    RecordedFact,
    parent_of,
    recipient_key,
)
from scheduler.handlers.base import Deps
from scheduler.models import JsonObject

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
    if target is None or target.business_id != result.business_id:
        return []
    if occurred_at < target.epoch_started_at:
        return []  # an answer to a run before a person's retry
    parent = parent_of(result.target_id)
    now = deps.clock()
    facts = [
        _recorded(
            result,
            Fact(
                key=recipient_key(parent, o.recipient_id),
                kind=OUTCOME,
                status=o.status,
                at=occurred_at,
                epoch=target.epoch,
                message_id=o.message_id,
                error=_error(o.error_code, o.error_message),
            ),
            o.recipient_id,
            now,
        )
        for o in _outcomes(result)
        if (OUTCOME, o.status) in RANK
    ]
    existed = await deps.recipients.add_facts(facts)
    return [f.fact.status for i, f in enumerate(facts) if i not in existed]


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
    error = event.error if isinstance(event, MessageFailed) else None
    fact = Fact(
        key=recipient_key(parent_of(event.target_id), event.recipient_id),
        kind=STATUS,
        status=status,
        at=event.status_at,
        message_id=event.message_id,
        error=None if error is None else error.model_dump(mode="json"),
    )
    existed = await deps.recipients.add_facts(
        [_recorded(event, fact, event.recipient_id, deps.clock())]
    )
    return status, not existed


async def record_flag(deps: Deps, event: RecipientFlagged) -> str:
    """Suppress the flagged number for the business: `flagged`, `known` (it was already), or
    `no_number` (neither the event nor the recipient says which number)."""
    # WhatsApp names numbers without the +; contacts are stored in E.164.
    phone = None if event.to is None else normalize_phone(f"+{event.to.lstrip('+')}")
    if phone is None:
        key = recipient_key(parent_of(event.target_id), event.recipient_id)
        recipient = await deps.recipients.get_recipient(key)
        phone = None if recipient is None else recipient.to
    if phone is None:
        log.warning("recipient_flagged.no_number", recipient_id=event.recipient_id)
        return "no_number"
    added = await deps.audiences.add_suppression(
        Suppression(
            business_id=event.business_id,
            phone=phone,
            reason=event.reason,
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


def _recorded(event: TargetRef, fact: Fact, recipient_id: str, now: datetime) -> RecordedFact:
    return RecordedFact(
        fact=fact,
        post_id=event.post_id,
        business_id=event.business_id,
        target_id=event.target_id,
        recipient_id=recipient_id,
        recorded_at=now,
    )


def _error(code: str | None, message: str | None) -> JsonObject | None:
    return None if code is None and message is None else {"code": code, "message": message}


def group_facts(facts: Sequence[Fact]) -> dict[str, list[Fact]]:
    grouped: dict[str, list[Fact]] = {}
    for fact in facts:
        grouped.setdefault(fact.key, []).append(fact)
    return grouped
