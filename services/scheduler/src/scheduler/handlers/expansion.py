"""Expanding a broadcast target into batch targets at its due time
(docs/adr/0008-audiences-broadcasts-and-delivery-statuses.md).

1. Claim the broadcast target's epoch like a dispatch (`claims`, insert-only; a cancel holds
   the same claim, so a broadcast is either cancelled or expanded).
2. Read the audience's contacts and the business's suppressions *now*, so a contact who opted
   out between submission and the due time is not sent the message.
3. Write recipients batch by batch: insert the recipient documents (`<target>/<contact id>`,
   unique), then the batch target `<target>.<k>` made of the recipients this expansion won,
   then its dispatch queue row. A contact is in one batch at most, even if two expansions ran.
4. Record the broadcast's dispatch fact (it now reads `dispatched`; its batches carry the
   post's status) with what was excluded and skipped, and drop its queue row.

Every step is safe to repeat: an interrupted expansion is taken up again and goes on from what
it finds (recipients already taken, batches without a target yet, batch targets without a
queue row). A long one renews its claim between writes (`broadcast_claims.Lease`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from herald.content import PostContent, WhatsAppTemplate
from herald.errors import ErrorCategory
from herald.events import FailureDetail
from herald.topics import Platform
from scheduler.broadcast import (
    Plan,
    Planned,
    batch_options,
    broadcast_template,
    plan_broadcast,
    shared_template,
)
from scheduler.deliveries import Recipient, batch_target_id
from scheduler.domain import dispatch_id
from scheduler.handlers.base import Deps
from scheduler.handlers.broadcast_claims import Lease
from scheduler.handlers.broadcasts import planned_from, with_requests
from scheduler.handlers.lifecycle import fail_target
from scheduler.handlers.submit import pending_items
from scheduler.models import (
    Batch,
    BroadcastSummary,
    DispatchFact,
    Post,
    Role,
    Target,
    TargetState,
)

BATCHES_PER_WRITE = 20
Work = tuple[int, list["Planned"], bool]  # batch number, members, members still to insert


@dataclass
class Expansion:
    outcome: str
    batches: int = 0
    recipients: int = 0
    skipped: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    added: int = 0  # recipients this expansion put in batches (the others an earlier one did)
    added_skipped: int = 0


async def expand(deps: Deps, lease: Lease) -> Expansion:
    """Split the broadcast into batch targets and queue them, renewing the claim on the way
    (`Interrupted` if another replica took it over)."""
    item = lease.item
    post = await deps.posts.get_post(item.business_id, item.post_id)
    parent = await deps.posts.get_target(item.target_id)
    if post is None or parent is None or parent.state is not TargetState.SCHEDULED:
        return await _finish(deps, lease, Expansion("gone"))
    spec = post.targets[item.index]
    audience = None
    if spec.audience_id is not None:
        audience = await deps.audiences.get_audience(item.business_id, spec.audience_id)
    if audience is None:
        message = f"The audience {spec.audience_id} was deleted before the broadcast's time."
        await _fail(deps, lease, "audience_not_found", message)
        return await _finish(deps, lease, Expansion("audience_missing"))
    contacts = await deps.audiences.contacts_of(audience.id)
    flags = await deps.audiences.flags(item.business_id, None)
    existing = await deps.recipients.recipients_of_parent(item.target_id)
    plan = plan_broadcast(
        contacts,
        flags,
        {r.recipient_id for r in existing},
        template=broadcast_template(spec.options),
        content=PostContent.model_validate(post.content),
        batch_size=deps.batch_size,
    )
    writer = _Writer(deps, post, parent, shared_template(spec.options), lease)
    report = await writer.write(existing, plan)
    if report.batches == 0:
        message = "No contact of the audience could be sent the message (see its recipients)."
        await _fail(deps, lease, "no_recipients", message)
        report.outcome = "no_recipients"
    return await _finish(deps, lease, report)


class _Writer:
    def __init__(
        self, deps: Deps, post: Post, parent: Target, shared: WhatsAppTemplate, lease: Lease
    ) -> None:
        self.deps, self.post, self.parent = deps, post, parent
        self.shared, self.lease = shared, lease
        self.options = post.targets[parent.index].options

    async def write(self, existing: list[Recipient], plan: Plan) -> Expansion:
        targets = await self.deps.posts.targets_of([self.post])
        made = {
            t.batch.number: t
            for t in targets
            if t.batch is not None and t.batch.parent_target_id == self.parent.id
        }
        await self._requeue([t for t in made.values() if t.state is TargetState.SCHEDULED])
        report = Expansion("expanded", excluded=dict(plan.excluded))
        report.skipped = sum(1 for r in existing if r.state == "skipped")
        report.added_skipped = len(await self._insert(plan.skipped, None))
        report.skipped += report.added_skipped
        report.batches = len(made)
        report.recipients = sum(_size(t) for t in made.values())
        work = _orphans(existing, made) + _fresh(existing, plan)
        for start in range(0, len(work), BATCHES_PER_WRITE):
            await self.lease.keep(self.deps)
            written = await self._batches(work[start : start + BATCHES_PER_WRITE])
            report.batches += len(written)
            report.added += sum(_size(t) for t in written)
        report.recipients += report.added
        return report

    async def _batches(self, group: Sequence[Work]) -> list[Target]:
        """Insert the recipients of new batches, then a target per batch of those won."""
        now = self.deps.clock()
        targets = []
        for k, members, new in group:
            won = await self._insert(members, k) if new else members
            if won:
                targets.append(self._target(k, won, now))
        await self.deps.posts.insert_targets(targets)  # without what they send: see Target
        items = pending_items(self.post, targets)
        await self.deps.dispatch.add_pending(items)
        self.deps.notify(items)
        return targets

    async def _insert(self, members: Sequence[Planned], batch: int | None) -> list[Planned]:
        """Insert recipient documents; those another expansion had already are not ours."""
        recipients = [self._recipient(m, batch) for m in members]
        existed = await self.deps.recipients.add_recipients(recipients)
        return [m for i, m in enumerate(members) if i not in existed]

    async def _requeue(self, targets: Sequence[Target]) -> None:
        """Batch targets an interrupted expansion made but may not have queued."""
        keys = [dispatch_id(t.id, t.epoch) for t in targets]
        done = await self.deps.dispatch.dispatched(keys)
        waiting = [t for t, k in zip(targets, keys, strict=True) if k not in done]
        ready = await with_requests(self.deps, self.post, waiting)
        await self.deps.dispatch.add_pending(pending_items(self.post, ready))

    def _recipient(self, planned: Planned, batch: int | None) -> Recipient:
        parent = self.parent.id
        return Recipient(
            parent_target_id=parent,
            recipient_id=planned.recipient_id,
            post_id=self.post.id,
            business_id=self.post.business_id,
            target_id=None if batch is None else batch_target_id(parent, batch),
            contact_id=planned.recipient_id,
            to=planned.to,
            batch=batch,
            state="skipped" if planned.error else "queued",
            created_at=self.deps.clock(),
            name=planned.name,
            components=planned.components,
            error=planned.error,
            epoch=self.parent.epoch,
        )

    def _target(self, batch: int, members: list[Planned], now: datetime) -> Target:
        parent = self.parent
        return Target(
            id=batch_target_id(parent.id, batch),
            post_id=parent.post_id,
            business_id=parent.business_id,
            index=parent.index,
            integration_id=parent.integration_id,
            platform=parent.platform,
            role=Role.BATCH,
            batch=Batch(parent.id, batch, len(members)),
            options=batch_options(self.options, self.shared, members),
            due_at=now,
            epoch=1,
            epoch_started_at=now,
            state=TargetState.SCHEDULED,
            updated_at=now,
        )


def _size(batch: Target) -> int:
    """Recipients of a batch target (as many outcomes, once its publication reported them)."""
    if batch.batch is not None and batch.batch.size is not None:
        return batch.batch.size
    return len(batch.outcomes or ())


def _orphans(existing: Sequence[Recipient], made: dict[int, Target]) -> list[Work]:
    """Batches whose recipients an interrupted expansion wrote but whose target it did not."""
    orphans: dict[int, list[Planned]] = {}
    for recipient in existing:
        if recipient.batch is not None and recipient.batch not in made:
            orphans.setdefault(recipient.batch, []).append(planned_from(recipient))
    return [(k, members, False) for k, members in sorted(orphans.items())]


def _fresh(existing: Sequence[Recipient], plan: Plan) -> list[Work]:
    """The plan's batches, numbered after every batch an earlier expansion used."""
    first = max((r.batch for r in existing if r.batch is not None), default=0) + 1
    return [(first + i, batch, True) for i, batch in enumerate(plan.batches)]


async def _fail(deps: Deps, lease: Lease, code: str, message: str) -> None:
    await lease.keep(deps)
    item = lease.item
    error = FailureDetail(
        category=ErrorCategory.PERMANENT,
        code=code,
        message=message,
        remediation="Check the audience and its contacts, then retry the post.",
    )
    await fail_target(deps, item.target_id, item.post_id, error, kind="expand")


async def _finish(deps: Deps, lease: Lease, report: Expansion) -> Expansion:
    item = lease.item
    fact = DispatchFact(
        target_id=item.target_id,
        post_id=item.post_id,
        epoch=item.epoch,
        due_at=item.due_at,
        dispatched_at=deps.clock(),
        claim=lease.claim.id,
        owner=lease.claim.owner,
        topic=deps.names.requested(Platform.WHATSAPP),
        broadcast=BroadcastSummary(
            batches=report.batches,
            recipients=report.recipients,
            skipped=report.skipped,
            excluded=report.excluded,
        ),
    )
    if report.outcome != "gone":
        await lease.keep(deps)
        await deps.dispatch.record_dispatches([fact])
    await deps.recipients.dequeue([dispatch_id(item.target_id, item.epoch)])
    return report
