"""Dispatch a batch of due targets: claim, produce and await the broker's ack, record.

The claim of a target's dispatch epoch is an insert of `{_id: "<target>:<epoch>:<generation>"}`
(docs/adr/0006-scheduler-dispatch-and-state.md). Generation 0 is the normal claim. A claim whose
holder vanished (no dispatch recorded after `lease_s`) is taken over by inserting the next
generation, and only one contender's insert can succeed. A cancel takes the same kind of claim,
so a target is either cancelled or dispatched, never both. After the broker acknowledged the
`post.requested`, the dispatch is recorded as its own document (an insert, batched).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from pydantic import TypeAdapter

from herald.content import PostContent, TargetOptions
from herald.delivery import REPLAY_ID
from herald.errors import ErrorCategory
from herald.events import FailureDetail, IntegrationStatus, PostRequested
from herald.remediation import reconnect
from herald.tracing import producing
from scheduler.domain import claim_id, dispatch_id, is_stale
from scheduler.handlers.base import Deps
from scheduler.handlers.lifecycle import fail_target
from scheduler.models import DispatchFact
from scheduler.ports import Claim, PendingItem

log = structlog.get_logger(__name__)

UNUSABLE = {IntegrationStatus.EXPIRED, IntegrationStatus.DISCONNECTED}
# Concurrent produces per round: the client batches them; far larger rounds measured slower.
PRODUCE_CHUNK = 500
OPTIONS: TypeAdapter[TargetOptions] = TypeAdapter(TargetOptions)


@dataclass(frozen=True)
class Owned:
    """A target this replica holds the claim of, with its integration's status at claim time."""

    item: PendingItem
    claim: str
    status: IntegrationStatus | None
    lane: int | None = None  # its integration's (ADR 0025); None: the key's hash places it


@dataclass
class Claimed:
    owned: list[Owned] = field(default_factory=list)
    finished_elsewhere: list[PendingItem] = field(default_factory=list)
    busy_elsewhere: list[PendingItem] = field(default_factory=list)
    takeovers: int = 0


@dataclass
class DispatchReport:
    """What became of each item of a batch."""

    sent: list[tuple[PendingItem, datetime]] = field(default_factory=list)
    needs_reauth: list[PendingItem] = field(default_factory=list)
    finished_elsewhere: list[PendingItem] = field(default_factory=list)
    busy_elsewhere: list[PendingItem] = field(default_factory=list)
    failed: list[PendingItem] = field(default_factory=list)
    takeovers: int = 0
    facts: list[DispatchFact] = field(default_factory=list)  # to record once acknowledged

    @property
    def done(self) -> list[PendingItem]:
        """Items no replica needs to queue any more."""
        return [i for i, _ in self.sent] + self.needs_reauth + self.finished_elsewhere


class DispatchHandler:
    def __init__(self, deps: Deps, *, owner: str, lease_s: float) -> None:
        self._deps = deps
        self._owner = owner
        self._lease_s = lease_s
        # When this replica first saw another's claim on a target: looked at again only after
        # a lease, so two replicas racing on one batch cost each other no extra reads.
        self._contested: dict[str, float] = {}

    async def dispatch(self, items: Sequence[PendingItem]) -> DispatchReport:
        """Claim and send in one go (targets nobody claimed ahead of their due time)."""
        claimed = await self.claim(items)
        report = await self.send(claimed.owned)
        report.finished_elsewhere.extend(claimed.finished_elsewhere)
        report.busy_elsewhere.extend(claimed.busy_elsewhere)
        report.takeovers += claimed.takeovers
        return report

    async def claim(self, items: Sequence[PendingItem]) -> Claimed:
        """Take the claims of `items` (ahead of their due time, or at it)."""
        result = Claimed()
        now = self._deps.clock()
        claims = {i.target_id: self._claim(i, 0, now) for i in items}
        won = await self._deps.dispatch.claim(list(claims.values()))
        owned = [(i, claims[i.target_id].id) for i in items if claims[i.target_id].id in won]
        lost = [i for i in items if claims[i.target_id].id not in won]
        owned.extend(await self._contest(lost, result, now))
        statuses = await self._deps.view.statuses(i.integration_id for i, _ in owned)
        lanes = await self._deps.view.lanes(i.integration_id for i, _ in owned)
        result.owned = [
            Owned(i, c, statuses.get(i.integration_id), lanes.get(i.integration_id))
            for i, c in owned
        ]
        return result

    async def send(self, owned: Sequence[Owned]) -> DispatchReport:
        """Produce each claimed target (or fail it for an expired integration) and record it."""
        report = DispatchReport()
        sendable = []
        for entry in owned:
            if entry.status in UNUSABLE:
                assert entry.status is not None
                await self._needs_reauth(entry.item, entry.status)
                report.needs_reauth.append(entry.item)
            else:
                sendable.append(entry)
        await self._send(sendable, report)
        return report

    async def record(self, facts: Sequence[DispatchFact]) -> None:
        """Record acknowledged dispatches (in a batch, after the fact: see the dispatcher)."""
        await self._deps.dispatch.record_dispatches(facts)

    def _claim(self, item: PendingItem, generation: int, now: datetime) -> Claim:
        return Claim(
            id=claim_id(item.target_id, item.epoch, generation),
            target_id=item.target_id,
            epoch=item.epoch,
            generation=generation,
            owner=self._owner,
            kind="dispatch",
            claimed_at=now,
        )

    async def _contest(
        self, lost: list[PendingItem], report: Claimed, now: datetime
    ) -> list[tuple[PendingItem, str]]:
        """Claims held by others: skip fresh ones, finish recorded ones, take over stale ones."""
        clock = time.monotonic()
        ripe = []
        for item in lost:
            first_seen = self._contested.setdefault(dispatch_id(item.target_id, item.epoch), clock)
            if clock - first_seen < self._lease_s:
                report.busy_elsewhere.append(item)
            else:
                ripe.append(item)
        if not ripe:
            return []
        recorded = await self._deps.dispatch.dispatched(
            dispatch_id(i.target_id, i.epoch) for i in ripe
        )
        taken: list[tuple[PendingItem, str]] = []
        for item in ripe:
            key = dispatch_id(item.target_id, item.epoch)
            if key in recorded:
                report.finished_elsewhere.append(item)
                self._contested.pop(key, None)
                continue
            claim = await self._take_over(item, now)
            if claim is None:
                report.busy_elsewhere.append(item)
            elif claim == "cancelled":
                report.finished_elsewhere.append(item)
                self._contested.pop(key, None)
            else:
                taken.append((item, claim))
                report.takeovers += 1
                self._contested.pop(key, None)
        return taken

    async def _take_over(self, item: PendingItem, now: datetime) -> str | None:
        claims = await self._deps.dispatch.claims_for(item.target_id, item.epoch)
        newest = claims[0] if claims else None
        if newest is not None and newest.kind == "cancel":
            return "cancelled"
        # A claim taken ahead of time counts from the due time: its holder meant to send then.
        if newest is not None and not is_stale(
            max(newest.claimed_at, item.due_at), now, self._lease_s
        ):
            return None
        generation = 0 if newest is None else newest.generation + 1
        claim = self._claim(item, generation, now)
        won = await self._deps.dispatch.claim([claim])
        if claim.id in won:
            log.warning(
                "dispatch.claim_taken_over", target_id=item.target_id, generation=generation
            )
            return claim.id
        return None

    async def _send(self, owned: list[Owned], report: DispatchReport) -> None:
        if not owned:
            return
        outcomes: list[datetime | BaseException] = []
        for start in range(0, len(owned), PRODUCE_CHUNK):
            chunk = owned[start : start + PRODUCE_CHUNK]
            outcomes.extend(
                await asyncio.gather(
                    *(self._produce(o.item, o.lane) for o in chunk), return_exceptions=True
                )
            )
        release: list[str] = []
        for (item, claim), outcome in zip(
            ((o.item, o.claim) for o in owned), outcomes, strict=True
        ):
            if isinstance(outcome, BaseException):
                log.warning(
                    "dispatch.produce_failed", target_id=item.target_id, error=repr(outcome)
                )
                report.failed.append(item)
                release.append(claim)
                continue
            report.sent.append((item, outcome))
            report.facts.append(self._fact(item, claim, outcome))
        # Released claims let the next pass retry at once instead of after a lease.
        await self._deps.dispatch.release(release)

    async def _produce(self, item: PendingItem, lane: int | None) -> datetime:
        event = PostRequested(
            post_id=item.post_id,
            target_id=item.target_id,
            business_id=item.business_id,
            integration_id=item.integration_id,
            platform=item.platform,
            # Carried as JSON since the submission; read into the contract's models here.
            content=PostContent.model_validate(item.request.content),
            options=OPTIONS.validate_python(item.request.options),
            due_at=item.due_at,
            requested_at=self._deps.clock(),
        )
        # A retried target opens a new ledger run in the publisher (herald.delivery.REPLAY_ID).
        headers = {REPLAY_ID: f"retry:{item.target_id}:{item.epoch}"} if item.epoch > 1 else None
        topic = self._deps.names.requested(item.platform)
        # The trace of the submission goes on: the publisher's work is a child of this span.
        name = f"dispatch post.requested.{item.platform.value}"
        with producing(name, item.trace):
            await self._deps.emitter.emit(
                event, topic=topic, key=item.integration_id, headers=headers, lane=lane
            )
        return self._deps.clock()

    def _fact(self, item: PendingItem, claim: str, acked_at: datetime) -> DispatchFact:
        return DispatchFact(
            target_id=item.target_id,
            post_id=item.post_id,
            epoch=item.epoch,
            due_at=item.due_at,
            dispatched_at=acked_at,
            claim=claim,
            owner=self._owner,
            topic=self._deps.names.requested(item.platform),
        )

    async def _needs_reauth(self, item: PendingItem, status: IntegrationStatus) -> None:
        error = FailureDetail(
            category=ErrorCategory.NEEDS_REAUTH,
            code=f"integration_{status.value}",
            message=f"The connected account is {status.value}, so the post was not sent.",
            remediation=reconnect(item.integration_id, item.platform.value),
        )
        await fail_target(self._deps, item.target_id, item.post_id, error, kind="dispatch")
