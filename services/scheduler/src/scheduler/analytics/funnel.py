"""The delivery funnel of a WhatsApp target (a broadcast, or one that lists its recipients):
how many recipients WhatsApp sent to, delivered to and were read by, how many failed and why,
from the recipients' furthest states (`scheduler.deliveries`: facts ranked, duplicates and any
order tolerated). Rates are over the step before (delivered of sent, read of delivered); failed
of all recipients. A rate without anything under it is null, not 0."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from herald.topics import Platform
from scheduler.deliveries import REACHED, RecipientState, RecipientView, view
from scheduler.handlers.base import Deps
from scheduler.handlers.recipients import group_facts
from scheduler.models import Post, Role, Target


@dataclass(frozen=True)
class Failure:
    code: str | None
    count: int
    message: str | None


@dataclass(frozen=True)
class Funnel:
    recipients: int
    sent: int
    delivered: int
    read: int
    failed: int
    by_state: dict[str, int]
    failures: list[Failure]

    @property
    def rates(self) -> dict[str, float | None]:
        return {
            "delivered": _rate(self.delivered, self.sent),
            "read": _rate(self.read, self.delivered),
            "failed": _rate(self.failed, self.recipients),
        }


def funnel(views: Sequence[RecipientView]) -> Funnel:
    states = Counter(v.state for v in views)
    failed = [v for v in views if v.state is RecipientState.FAILED]
    codes = Counter(v.error_code for v in failed)
    messages = {v.error_code: v.error_message for v in failed}
    return Funnel(
        recipients=len(views),
        sent=sum(states[s] for s in REACHED["sent"]),
        delivered=sum(states[s] for s in REACHED["delivered"]),
        read=sum(states[s] for s in REACHED["read"]),
        failed=states[RecipientState.FAILED],
        by_state={s.value: states[s] for s in RecipientState},
        failures=[Failure(c, n, messages[c]) for c, n in codes.most_common()],
    )


async def funnels(deps: Deps, post: Post, targets: Sequence[Target]) -> dict[str, Funnel]:
    """By target id, for the post's WhatsApp targets (not their batches)."""
    whatsapp = [t for t in targets if t.platform is Platform.WHATSAPP and t.role is not Role.BATCH]
    if not whatsapp:
        return {}
    recipients = await deps.recipients.recipients_of_post(post.id)
    facts = group_facts(await deps.recipients.facts_of_post(post.id))
    by_id = {t.id: t for t in targets}
    # The post's facts are read for their states; a failed recipient's are read whole, for
    # the error they carry.
    failed = [
        r.key
        for r in recipients
        if view(r, facts.get(r.key, []), by_id.get(r.target_id or "")).state
        is RecipientState.FAILED
    ]
    facts |= group_facts(await deps.recipients.facts_for(failed)) if failed else {}
    views: dict[str, list[RecipientView]] = {t.id: [] for t in whatsapp}
    for recipient in recipients:
        batch = by_id.get(recipient.target_id or "")
        shown = view(recipient, facts.get(recipient.key, []), batch)
        views.setdefault(recipient.parent_target_id, []).append(shown)
    return {target_id: funnel(found) for target_id, found in views.items()}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None
