"""Broadcasts at submission: checking the audience and the template's placeholders, and
queueing each target where it belongs (docs/adr/0008-audiences-broadcasts-and-delivery-statuses.md).

A WhatsApp target whose options name an `audience_id` is a broadcast target: it waits in the
broadcast queue until its due time, when the expander splits it into batch targets (each then
dispatched like any target). Every other target goes to the dispatch queue as before. The
recipients of a WhatsApp target that lists them itself are recorded at once, so that its
deliveries can be followed like a broadcast's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from herald.content import WhatsAppOptions, WhatsAppRecipient
from herald.events import PostSubmitted, Violation
from herald.topics import Platform
from scheduler.broadcast import Planned, batch_options, shared_template
from scheduler.contacts import DERIVED
from scheduler.deliveries import Recipient
from scheduler.handlers.base import Deps
from scheduler.models import JsonObject, Post, Role, Target
from scheduler.personalize import check_placeholders
from scheduler.ports import BroadcastItem, PendingItem


async def check_broadcasts(deps: Deps, submission: PostSubmitted) -> list[Violation]:
    """The audience of each broadcast target exists in the business; placeholders name fields
    its contacts have; a target has an audience or its own recipients, not both."""
    found: list[Violation] = []
    for index, target in enumerate(submission.targets):
        options = target.options
        if not isinstance(options, WhatsAppOptions):
            continue
        base = f"targets[{index}].options"
        available: set[str] | None = None
        if options.audience_id is not None:
            audience = await deps.audiences.get_audience(
                submission.business_id, options.audience_id
            )
            if audience is None:
                message = f"No audience {options.audience_id} in this business."
                found.append(
                    Violation(path=f"{base}.audience_id", message=message, code="not_found")
                )
                continue
            available = {"phone", "name", *DERIVED, *audience.fields}
            if options.recipients:
                message = "A broadcast goes to its audience; leave recipients out."
                found.append(
                    Violation(path=f"{base}.recipients", message=message, code="not_allowed")
                )
        found.extend(check_placeholders(options.template, available, f"{base}.template"))
    return found


async def with_requests(deps: Deps, post: Post, targets: Sequence[Target]) -> list[Target]:
    """Targets ready for `pending_item`: a batch target is stored without what it sends (its
    recipients live in their own documents, which stay small to read); it is rebuilt here."""
    batches = [t.id for t in targets if t.role is Role.BATCH and t.options is None]
    members: dict[str, list[Planned]] = {}
    for recipient in await deps.recipients.recipients_of_targets(batches):
        if recipient.target_id is not None:
            members.setdefault(recipient.target_id, []).append(planned_from(recipient))
    ready = []
    for target in targets:
        if target.id not in batches:
            ready.append(target)
            continue
        spec = post.targets[target.index].options
        chosen = sorted(members.get(target.id, []), key=lambda m: m.to)
        ready.append(replace(target, options=batch_options(spec, shared_template(spec), chosen)))
    return ready


def planned_from(recipient: Recipient) -> Planned:
    """A recipient document as the batch that sends it needs it."""
    return Planned(recipient.recipient_id, recipient.to, recipient.components, None, recipient.name)


async def queue(
    deps: Deps, post: Post, targets: Sequence[Target], items: list[PendingItem]
) -> None:
    """Queue `targets` (with their dispatch `items`): broadcasts for expansion, the rest for
    dispatch."""
    broadcasts = [t for t in targets if t.role is Role.BROADCAST]
    ids = {t.id for t in broadcasts}
    if broadcasts:
        await deps.recipients.enqueue(
            [
                BroadcastItem(
                    t.id, t.epoch, t.due_at, post.id, post.business_id, t.integration_id, t.index
                )
                for t in broadcasts
            ]
        )
        deps.notify_broadcast()
    direct = [i for i in items if i.target_id not in ids]
    if direct:
        await deps.dispatch.add_pending(direct)
        deps.notify(direct)


async def record_direct_recipients(deps: Deps, post: Post, targets: Sequence[Target]) -> None:
    """Recipients a WhatsApp target lists itself (no audience), one document each."""
    recipients = [
        Recipient(
            parent_target_id=target.id,
            recipient_id=listed.recipient_id,
            post_id=post.id,
            business_id=post.business_id,
            target_id=target.id,
            contact_id=None,
            to=listed.to,
            batch=None,
            state="queued",
            created_at=post.created_at,
        )
        for target in targets
        if target.platform is Platform.WHATSAPP and target.role is not Role.BROADCAST
        for listed in _listed(post.targets[target.index].options)
    ]
    await deps.recipients.add_recipients(recipients)


def _listed(options: JsonObject) -> list[WhatsAppRecipient]:
    return WhatsAppOptions.model_validate(options).recipients
