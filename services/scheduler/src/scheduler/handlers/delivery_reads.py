"""Reading the deliveries of a WhatsApp post: counts per broadcast (or target that lists its
own recipients) and for the whole post, and a page of recipients with their furthest state.

Counts are computed on each read from the recipient documents and their facts, like the post's
status from its targets: nothing aggregated is stored, so nothing can drift or lose an update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from scheduler.deliveries import Counts, RecipientState, RecipientView, count, view
from scheduler.handlers.base import Deps, owned_post, with_states
from scheduler.handlers.recipients import group_facts
from scheduler.ports import Doc

SCAN_FACTOR = 4


@dataclass(frozen=True)
class Deliveries:
    total: Counts | None = None
    by_target: dict[str, Counts] = field(default_factory=dict)
    broadcasts: dict[str, Doc] = field(default_factory=dict)  # expansion summary by target


@dataclass(frozen=True)
class RecipientPage:
    items: list[RecipientView]
    next_after: str | None


async def deliveries(deps: Deps, post: Doc, targets: Sequence[Doc]) -> Deliveries:
    """Counts for a post with WhatsApp targets (none for other posts)."""
    whatsapp = [t for t in targets if t["platform"] == "whatsapp" and t.get("role") != "batch"]
    if not whatsapp:
        return Deliveries()
    recipients = await deps.recipients.recipients_of_post(post["_id"])
    facts = group_facts(await deps.recipients.facts_of_post(post["_id"]))
    by_id = {t["_id"]: t for t in targets}
    states: dict[str, list[RecipientState]] = {t["_id"]: [] for t in whatsapp}
    for recipient in recipients:
        shown = view(recipient, facts.get(recipient["_id"], []), by_id.get(recipient["target_id"]))
        states.setdefault(recipient["parent_target_id"], []).append(shown.state)
    broadcasts = [t["_id"] for t in whatsapp if t.get("role") == "broadcast"]
    summaries = {
        f["target_id"]: f["broadcast"]
        for f in await deps.dispatch.dispatch_facts(broadcasts)
        if f.get("broadcast")
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
    docs = await deps.recipients.recipients_page(post_id, after, scan + 1)
    more = len(docs) > scan
    docs = docs[:scan]
    facts = group_facts(await deps.recipients.facts_for([d["_id"] for d in docs]))
    targets = {t["_id"]: t for t in await with_states(deps, await deps.posts.targets_of([post]))}
    items: list[RecipientView] = []
    last: Doc | None = None
    for doc in docs:
        last = doc
        shown = view(doc, facts.get(doc["_id"], []), targets.get(doc["target_id"]))
        if state is None or shown.state is state:
            items.append(shown)
        if len(items) == limit:
            more = more or doc is not docs[-1]
            break
    return RecipientPage(items, last["_id"] if more and last is not None else None)
