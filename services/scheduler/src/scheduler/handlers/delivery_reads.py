"""Reading the deliveries of a WhatsApp post: counts per broadcast (or target that lists its
own recipients) and for the whole post, and a page of recipients with their furthest state.

Counts are computed on each read from the recipient documents and their facts, like the post's
status from its targets: nothing aggregated is stored, so nothing can drift or lose an update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from herald.topics import Platform
from scheduler.deliveries import Counts, RecipientState, RecipientView, count, view
from scheduler.handlers.base import Deps, owned_post, with_states
from scheduler.handlers.recipients import group_facts
from scheduler.models import BroadcastSummary, Post, Role, Target

SCAN_FACTOR = 4


@dataclass(frozen=True)
class Deliveries:
    total: Counts | None = None
    by_target: dict[str, Counts] = field(default_factory=dict)
    broadcasts: dict[str, BroadcastSummary] = field(default_factory=dict)  # by target


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
    for recipient in recipients:
        batch = None if recipient.target_id is None else by_id.get(recipient.target_id)
        shown = view(recipient, facts.get(recipient.key, []), batch)
        states.setdefault(recipient.parent_target_id, []).append(shown.state)
    broadcasts = [t.id for t in whatsapp if t.role is Role.BROADCAST]
    summaries = {
        f.target_id: f.broadcast
        for f in await deps.dispatch.dispatch_facts(broadcasts)
        if f.broadcast is not None
    }
    return Deliveries(
        total=count(s for found in states.values() for s in found),
        by_target={target: count(found) for target, found in states.items()},
        broadcasts=summaries,
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
