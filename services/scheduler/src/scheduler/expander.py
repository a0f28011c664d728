"""The expander loop: broadcasts that fell due are split into batch targets, which the
dispatcher then sends like any target
(docs/adr/0008-audiences-broadcasts-and-delivery-statuses.md).

It looks for due broadcasts every `broadcasts.poll_interval_s`, or at once when a submission in
this process queued one. Each is claimed first (the dispatch claim protocol of ADR 0006), so
replicas share the work and a cancel and an expansion never both happen. An expansion that
fails lets its claim go and is taken up again on the next round, going on from what it wrote.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from herald.stopping import cancel_and_wait
from scheduler.domain import dispatch_id
from scheduler.handlers.base import Deps
from scheduler.handlers.broadcast_claims import Interrupted, claim_broadcast, let_go
from scheduler.handlers.expansion import Expansion, expand
from scheduler.metrics import SchedulerMetrics
from scheduler.ports import BroadcastItem
from scheduler.settings import BroadcastSettings

log = structlog.get_logger(__name__)

DUE_PER_ROUND = 50


class Expander:
    def __init__(
        self,
        deps: Deps,
        metrics: SchedulerMetrics,
        settings: BroadcastSettings,
        *,
        owner: str,
    ) -> None:
        self._deps = deps
        self._metrics = metrics
        self._settings = settings
        self._owner = owner
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="expander")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def run_once(self) -> int:
        """Expand what is due now; how many broadcasts were looked at."""
        due = await self._deps.recipients.due(self._deps.clock(), DUE_PER_ROUND)
        for item in due:
            await self._one(item)
        return len(due)

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:  # the store is down: nothing is lost, the next round tries again
                log.exception("expander.round_failed")
                self._metrics.put_back.labels("expand").inc()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._settings.poll_interval_s)

    async def _one(self, item: BroadcastItem) -> None:
        structlog.contextvars.bind_contextvars(post_id=item.post_id, target_id=item.target_id)
        try:
            outcome, lease = await claim_broadcast(self._deps, item, self._owner)
            if lease is None:
                if outcome in ("done", "cancelled"):
                    await self._deps.recipients.dequeue([dispatch_id(item.target_id, item.epoch)])
                    self._metrics.broadcasts.expansions.labels(outcome).inc()
                return
            try:
                report = await expand(self._deps, lease)
            except Interrupted:  # another replica holds it now and goes on from here
                log.warning("broadcast.expansion_taken_over")
                self._metrics.broadcasts.expansions.labels("interrupted").inc()
                return
            except Exception:
                self._metrics.broadcasts.expansions.labels("failed").inc()
                await let_go(self._deps, item, self._owner)  # the next round goes on at once
                raise
            self._account(report)
        finally:
            structlog.contextvars.unbind_contextvars("post_id", "target_id")

    def _account(self, report: Expansion) -> None:
        self._metrics.broadcasts.expansions.labels(report.outcome).inc()
        recipients = self._metrics.broadcasts.recipients
        recipients.labels("queued").inc(report.added)
        recipients.labels("skipped").inc(report.added_skipped)
        for reason, n in report.excluded.items():
            recipients.labels(f"excluded_{reason}").inc(n)
        log.info(
            "broadcast.expanded",
            outcome=report.outcome,
            batches=report.batches,
            recipients=report.recipients,
            skipped=report.skipped,
            excluded=report.excluded,
        )
