"""The dispatcher loop: wake at the next due time, dispatch what is due, record, repeat.

Four tasks share an in-memory queue of targets due within `lookahead_s`:
- the scanner reads the `pending` collection every `poll_interval_s` (targets submitted through
  other replicas, and everything overdue after downtime);
- the dispatcher sleeps until the earliest queued due time, or until `notify` (a submission in
  this process) or the poll interval wakes it, whichever is first, then hands due targets in
  batches to `DispatchHandler`;
- the recorder inserts dispatch facts in batches right after the broker's acknowledgements, and
  the janitor then deletes the queue entries of finished targets, both off the hot path.
The dispatcher's heartbeat feeds readiness: a loop stuck on a dependency makes `/readyz` fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from herald.stopping import cancel_and_wait
from scheduler.domain import dispatch_id
from scheduler.handlers.dispatch import Claimed, DispatchReport, Owned
from scheduler.metrics import SchedulerMetrics
from scheduler.models import DispatchFact
from scheduler.ports import DispatchStore, PendingItem
from scheduler.settings import DispatchSettings

log = structlog.get_logger(__name__)

DONE_MEMORY_S = 300.0
RETRY_AFTER_FAILURE_S = 1.0
JANITOR_INTERVAL_S = 1.0
RECORD_INTERVAL_S = 0.1
CLAIM_AHEAD_BATCH = 500
# Claimed this long before they fall due; a cancel in that window is refused (the target is as
# good as sent), so it stays short.
CLAIM_AHEAD_S = 5.0
SCAN_PACING = 3.0


class Dispatches(Protocol):
    async def claim(self, items: Sequence[PendingItem]) -> Claimed: ...
    async def send(self, owned: Sequence[Owned]) -> DispatchReport: ...
    async def dispatch(self, items: Sequence[PendingItem]) -> DispatchReport: ...
    async def record(self, facts: Sequence[DispatchFact]) -> None: ...


class Dispatcher:
    def __init__(
        self,
        handler: Dispatches,
        store: DispatchStore,
        metrics: SchedulerMetrics,
        settings: DispatchSettings,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._handler = handler
        self._store = store
        self._metrics = metrics
        self._settings = settings
        self._handler_lease_s = settings.claim_lease_s
        self._clock = clock
        self._items: dict[str, PendingItem] = {}
        self._owned: dict[str, Owned] = {}  # claimed ahead of the due time
        self._busy: dict[str, float] = {}  # claimed by another replica: left alone for a lease
        self._heap: list[tuple[float, str]] = []
        self._done: dict[str, float] = {}
        self._to_remove: list[str] = []
        self._to_record: list[DispatchFact] = []
        self._inflight: set[str] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.heartbeat = time.monotonic()
        self.scans = 0

    # -- feeding the queue ---------------------------------------------------------------------

    def notify(self, items: Sequence[PendingItem]) -> None:
        """New work from this process: queue what falls due soon and wake the loop."""
        horizon = self._clock() + timedelta(seconds=self._settings.lookahead_s)
        self._add([i for i in items if i.due_at <= horizon])

    def _add(self, items: Sequence[PendingItem]) -> None:
        added = False
        for item in items:
            key = dispatch_id(item.target_id, item.epoch)
            if key in self._items or key in self._done or key in self._inflight:
                continue
            if time.monotonic() - self._busy.get(key, -1e9) < self._handler_lease_s:
                continue
            self._items[key] = item
            heapq.heappush(self._heap, (item.due_at.timestamp(), key))
            added = True
        self._metrics.pending.set(len(self._items))
        if added:
            self._wake.set()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        loops = (self._scan_loop, self._dispatch_loop, self._recorder_loop, self._janitor_loop)
        for loop in loops:
            self._tasks.append(asyncio.create_task(loop(), name=f"dispatcher.{loop.__name__}"))

    async def stop(self) -> None:
        await cancel_and_wait(*self._tasks)
        self._tasks.clear()
        with contextlib.suppress(Exception):  # best effort: a lost fact means one re-send
            await self._record()
        with contextlib.suppress(Exception):  # best effort: the next owner cleans up anyway
            await self._flush_removals()

    def problem(self) -> str | None:
        """Why the dispatcher is not healthy, or None."""
        if not self._tasks:
            return "the dispatcher is not running"
        dead = [t.get_name() for t in self._tasks if t.done()]
        if dead:
            return f"dispatcher task(s) ended: {', '.join(dead)}"
        age = time.monotonic() - self.heartbeat
        self._metrics.heartbeat_age.set(age)
        if age > self._settings.stuck_after_s:
            return f"the dispatch loop has not gone round for {age:.0f}s"
        return None

    # -- the three loops -----------------------------------------------------------------------

    async def _scan_loop(self) -> None:
        while True:
            began = time.monotonic()
            try:
                horizon = self._clock() + timedelta(seconds=self._settings.lookahead_s)
                self._add(await self._store.pending_before(horizon, self._settings.scan_limit))
                self.scans += 1
            except Exception:  # the store is down: keep the loop alive and try again
                log.exception("dispatcher.scan_failed")
                self._metrics.put_back.labels("scan").inc()
            # A store that answers slowly (FerretDB scans whole collections) is scanned less
            # often, so scans never take more than a quarter of its time from claims and facts.
            took = time.monotonic() - began
            await asyncio.sleep(max(self._settings.poll_interval_s, SCAN_PACING * took))

    async def _dispatch_loop(self) -> None:
        while True:
            self.heartbeat = time.monotonic()
            self._wake.clear()
            batch = self._take_due(self._clock())
            if batch:
                await self._dispatch(batch)
                continue
            if await self._claim_ahead():
                continue
            timeout = self._settings.poll_interval_s
            if self._heap:
                timeout = min(timeout, max(self._heap[0][0] - self._clock().timestamp(), 0.0))
                # wake in time to claim what enters the claim-ahead window
                claim_at = self._heap[0][0] - CLAIM_AHEAD_S - self._clock().timestamp()
                if claim_at > 0:
                    timeout = min(timeout, claim_at)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _claim_ahead(self) -> bool:
        """Claim queued targets before they fall due, so that at the due time only the produce
        remains; True if there was something to claim."""
        window = self._clock().timestamp() + CLAIM_AHEAD_S
        keys = [
            k
            for k in self._items
            if k not in self._owned and self._items[k].due_at.timestamp() <= window
        ][:CLAIM_AHEAD_BATCH]
        if not keys:
            return False
        items = [self._items[k] for k in keys]
        began = time.monotonic()
        try:
            claimed = await self._handler.claim(items)
        except Exception:  # they are claimed at their due time instead
            log.exception("dispatcher.claim_ahead_failed", size=len(items))
            await asyncio.sleep(RETRY_AFTER_FAILURE_S)
            return False
        for entry in claimed.owned:
            self._owned[dispatch_id(entry.item.target_id, entry.item.epoch)] = entry
        for item in claimed.busy_elsewhere + claimed.finished_elsewhere:
            self._items.pop(dispatch_id(item.target_id, item.epoch), None)
        self._mark_busy(claimed.busy_elsewhere)
        self._account(DispatchReport(finished_elsewhere=claimed.finished_elsewhere))
        log.debug(
            "dispatch.claimed_ahead",
            owned=len(claimed.owned),
            busy=len(claimed.busy_elsewhere),
            took_ms=round((time.monotonic() - began) * 1000),
        )
        return True

    async def _recorder_loop(self) -> None:
        while True:
            await asyncio.sleep(RECORD_INTERVAL_S)
            try:
                await self._record()
            except Exception:  # kept for the next round; the claims still hold the targets
                log.exception("dispatcher.record_failed")

    async def _janitor_loop(self) -> None:
        while True:
            await asyncio.sleep(JANITOR_INTERVAL_S)
            try:
                await self._flush_removals()
            except Exception:  # rows stay queued; whoever reads them next finds them done
                log.exception("dispatcher.cleanup_failed")
            cutoff = time.monotonic() - DONE_MEMORY_S
            self._done = {k: t for k, t in self._done.items() if t > cutoff}
            lease_ago = time.monotonic() - self._handler_lease_s
            self._busy = {k: t for k, t in self._busy.items() if t > lease_ago}

    # -- helpers -------------------------------------------------------------------------------

    def _take_due(self, now: datetime) -> list[PendingItem]:
        moment = now.timestamp()
        batch: list[PendingItem] = []
        while self._heap and self._heap[0][0] <= moment and len(batch) < self._settings.batch_size:
            _, key = heapq.heappop(self._heap)
            item = self._items.pop(key, None)
            if item is not None:
                batch.append(item)
                self._inflight.add(key)
        return batch

    async def _dispatch(self, batch: list[PendingItem]) -> None:
        keys = [dispatch_id(i.target_id, i.epoch) for i in batch]
        owned = [self._owned.pop(k) for k in keys if k in self._owned]
        held = {dispatch_id(o.item.target_id, o.item.epoch) for o in owned}
        unclaimed = [i for k, i in zip(keys, batch, strict=True) if k not in held]
        try:
            reports = [await self._handler.send(owned)] if owned else []
            if unclaimed:
                reports.append(await self._handler.dispatch(unclaimed))
        except Exception:  # MongoDB or Kafka failed mid-batch: nothing is lost, try again soon
            log.exception("dispatcher.batch_failed", size=len(batch))
            self._metrics.put_back.labels("dispatch").inc()
            self._inflight.difference_update(keys)
            for entry in owned:  # still ours: the claims were not released
                self._owned[dispatch_id(entry.item.target_id, entry.item.epoch)] = entry
            self._requeue(batch)
            await asyncio.sleep(RETRY_AFTER_FAILURE_S)
            return
        self._inflight.difference_update(keys)
        for report in reports:
            self._account(report)

    def _mark_busy(self, items: Sequence[PendingItem]) -> None:
        now = time.monotonic()
        for item in items:
            self._busy[dispatch_id(item.target_id, item.epoch)] = now

    def _requeue(self, items: Sequence[PendingItem]) -> None:
        retry_at = time.time() + RETRY_AFTER_FAILURE_S
        for item in items:
            key = dispatch_id(item.target_id, item.epoch)
            self._items[key] = item
            heapq.heappush(self._heap, (retry_at, key))

    def _account(self, report: DispatchReport) -> None:
        clock = time.monotonic()
        threshold = self._settings.overdue_after_s
        for item, acked_at in report.sent:
            delay = (acked_at - item.due_at).total_seconds()
            platform = item.platform.value
            self._metrics.dispatch_delay.labels(platform).observe(max(delay, 0.0))
            self._metrics.dispatches.labels(platform, "sent").inc()
            if delay > threshold:
                self._metrics.overdue.labels(platform).inc()
        for outcome, items in (
            ("needs_reauth", report.needs_reauth),
            ("finished_elsewhere", report.finished_elsewhere),
            ("produce_failed", report.failed),
        ):
            for item in items:
                self._metrics.dispatches.labels(item.platform.value, outcome).inc()
        if report.takeovers:
            self._metrics.dispatches.labels("", "taken_over").inc(report.takeovers)
        self._to_record.extend(report.facts)
        for item in report.done:
            key = dispatch_id(item.target_id, item.epoch)
            self._done[key] = clock
        # Queue rows of sent targets go once their facts are recorded (see _record).
        self._to_remove.extend(
            dispatch_id(i.target_id, i.epoch)
            for i in report.needs_reauth + report.finished_elsewhere
        )
        self._requeue(report.failed)
        self._mark_busy(report.busy_elsewhere)
        self._metrics.pending.set(len(self._items))
        if report.sent:
            log.info("dispatch.batch", sent=len(report.sent), busy=len(report.busy_elsewhere))

    async def _record(self) -> None:
        """Record dispatch facts (a cheap batch insert, soon after the acknowledgement: a crash
        before it re-sends those targets), then let their queue rows go: a row never disappears
        before the fact that says its target was dispatched."""
        facts, self._to_record = self._to_record, []
        if not facts:
            return
        try:
            await self._handler.record(facts)
        except Exception:
            self._to_record.extend(facts)
            raise
        self._to_remove.extend(dispatch_id(f.target_id, f.epoch) for f in facts)

    async def _flush_removals(self) -> None:
        """Delete queue rows of finished targets (a scan on FerretDB, so less often)."""
        keys, self._to_remove = self._to_remove, []
        try:
            if keys:
                await self._store.remove_pending(keys)
        except Exception:
            self._to_remove.extend(keys)
            raise
