"""Reading the deliveries of a WhatsApp post: counts per broadcast (or target that lists its
own recipients) and for the whole post, and a page of recipients with their furthest state.

Counts are computed on each read from the recipient documents and their facts, like the post's
status from its targets: nothing aggregated is stored, so nothing can drift or lose an update.
So is a WhatsApp target's honest state (ADR 0018): WhatsApp accepts a message at once and says
later whether it got through, so a target stored `published` whose every recipient then failed
reads `failed`, with their most common error as `last_error`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from herald.errors import ErrorCategory
from herald.events import FailureDetail
from herald.graph.errors import WHATSAPP_REFUSALS
from herald.topics import Platform
from scheduler.deliveries import (
    STATUS,
    Counts,
    RecipientState,
    RecipientView,
    count,
    furthest,
    view,
)
from scheduler.handlers.base import Deps, owned_post, with_states
from scheduler.handlers.recipients import group_facts
from scheduler.models import BroadcastSummary, Post, Role, Target, TargetState

SCAN_FACTOR = 4


@dataclass(frozen=True)
class Deliveries:
    total: Counts | None = None
    by_target: dict[str, Counts] = field(default_factory=dict)
    broadcasts: dict[str, BroadcastSummary] = field(default_factory=dict)  # by target
    # Targets whose every recipient failed, with the failure they read (by target).
    undelivered: dict[str, FailureDetail] = field(default_factory=dict)

    def honest(self, targets: Sequence[Target]) -> list[Target]:
        """`targets` as a reader should see them: a WhatsApp target stored `published` whose
        every recipient failed reads `failed`, with their common error."""
        return [
            replace(t, state=TargetState.FAILED, last_error=self.undelivered[t.id])
            if t.state is TargetState.PUBLISHED and t.id in self.undelivered
            else t
            for t in targets
        ]


@dataclass(frozen=True)
class RecipientPage:
    items: list[RecipientView]
    next_after: str | None


async def deliveries(deps: Deps, post: Post, targets: Sequence[Target]) -> Deliveries:
    """Counts for a post with WhatsApp targets (none for other posts)."""
    whatsapp = [t for t in targets if t.platform is Platform.WHATSAPP and t.role is not Role.BATCH]
    if not whatsapp:
        return Deliveries()
    recipients = await deps.recipients.recipients_of_post(post.id)
    facts = group_facts(await deps.recipients.facts_of_post(post.id))
    by_id = {t.id: t for t in targets}
    states: dict[str, list[RecipientState]] = {t.id: [] for t in whatsapp}
    accepted: Counter[str] = Counter()
    failed_after_sending: dict[str, list[str]] = {}  # recipient keys, by target
    for recipient in recipients:
        batch = None if recipient.target_id is None else by_id.get(recipient.target_id)
        own = facts.get(recipient.key, [])
        shown = view(recipient, own, batch)
        parent = recipient.parent_target_id
        states.setdefault(parent, []).append(shown.state)
        best = furthest(own)
        # WhatsApp accepted it: a send outcome `accepted`, or any status it reported since.
        accepted[parent] += best is not None and (best.kind == STATUS or best.status == "accepted")
        if shown.state is RecipientState.FAILED and best is not None and best.kind == STATUS:
            failed_after_sending.setdefault(parent, []).append(recipient.key)
    broadcasts = [t.id for t in whatsapp if t.role is Role.BROADCAST]
    summaries = {
        f.target_id: f.broadcast
        for f in await deps.dispatch.dispatch_facts(broadcasts)
        if f.broadcast is not None
    }
    undelivered = {
        t.id: await _common_failure(deps, failed_after_sending[t.id])
        for t in whatsapp
        if t.role is Role.TARGET
        and t.state is TargetState.PUBLISHED
        and states[t.id]
        and len(failed_after_sending.get(t.id, [])) == len(states[t.id])
    }
    return Deliveries(
        total=count(
            (s for found in states.values() for s in found), accepted=sum(accepted.values())
        ),
        by_target={
            target: count(found, accepted=accepted[target]) for target, found in states.items()
        },
        broadcasts=summaries,
        undelivered=undelivered,
    )


async def _common_failure(deps: Deps, keys: Sequence[str]) -> FailureDetail:
    """The most common error of recipients that all failed after WhatsApp accepted them (their
    facts read whole: the counts read only states), with what to do about it."""
    grouped = group_facts(await deps.recipients.facts_for(list(keys)))
    failed = [f for f in (furthest(grouped.get(k, [])) for k in keys) if f is not None]
    codes = Counter(str((f.error or {}).get("code")) for f in failed)
    code = codes.most_common(1)[0][0] if codes else "None"
    error = next(f.error or {} for f in failed if str((f.error or {}).get("code")) == code)
    remediation = error.get("remediation")
    if not isinstance(remediation, str) and code.isdigit():
        remediation = WHATSAPP_REFUSALS.get(int(code))
    message = str(error.get("message") or "WhatsApp could not deliver the message")
    if len(failed) > 1:
        message = f"no recipient got the message ({codes[code]} of {len(failed)}: {message})"
    return FailureDetail(
        category=ErrorCategory.PERMANENT,
        code=None if code == "None" else code,
        message=message,
        remediation=remediation if isinstance(remediation, str) else None,
    )


async def recipients_page(
    deps: Deps,
    business_id: str,
    post_id: str,
    *,
    after: str | None,
    limit: int,
    state: RecipientState | None,
) -> RecipientPage:
    """Recipients in id order after `after`; with `state`, those in it (a page may then hold
    fewer than `limit` while `next_after` still points further, as the posts list does)."""
    post = await owned_post(deps, business_id, post_id)
    scan = limit if state is None else limit * SCAN_FACTOR
    found = await deps.recipients.recipients_page(post_id, after, scan + 1)
    more = len(found) > scan
    found = found[:scan]
    facts = group_facts(await deps.recipients.facts_for([r.key for r in found]))
    targets = {t.id: t for t in await with_states(deps, await deps.posts.targets_of([post]))}
    items: list[RecipientView] = []
    last: str | None = None
    for recipient in found:
        last = recipient.key
        batch = None if recipient.target_id is None else targets.get(recipient.target_id)
        shown = view(recipient, facts.get(recipient.key, []), batch)
        if state is None or shown.state is state:
            items.append(shown)
        if len(items) == limit:
            more = more or recipient is not found[-1]
            break
    return RecipientPage(items, last if more and last is not None else None)
