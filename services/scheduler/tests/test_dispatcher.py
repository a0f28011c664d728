"""The dispatcher loop with fakes: it wakes at the due time (not at the next poll), hands due
targets over in batches, puts a failed batch back, and reports itself stuck."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from herald.topics import Platform
from scheduler.dispatcher import Dispatcher
from scheduler.handlers.dispatch import Claimed, DispatchReport, Owned
from scheduler.metrics import SchedulerMetrics
from scheduler.models import DispatchFact
from scheduler.ports import Claim, PendingItem, Request
from scheduler.settings import DispatchSettings
from scheduler.testing import eventually

pytestmark = pytest.mark.unit


def item(n: int, due_at: datetime) -> PendingItem:
    request = Request({"text": "hello"}, {"platform": "facebook"})
    return PendingItem(f"t{n}", 1, due_at, f"p{n}", "biz", "fb-1", Platform.FACEBOOK, request)


@dataclass
class FakeQueue:
    """The `DispatchStore` calls the loop makes: a scan and removals."""

    items: list[PendingItem] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    async def pending_before(self, moment: datetime, limit: int) -> list[PendingItem]:
        return [i for i in self.items if i.due_at <= moment][:limit]

    async def remove_pending(self, keys: Iterable[str]) -> None:
        self.removed.extend(keys)

    async def add_pending(self, items: Sequence[PendingItem]) -> None:
        self.items.extend(items)

    async def claim(self, claims: Sequence[Claim]) -> set[str]:
        return {c.id for c in claims}

    async def claims_for(self, target_id: str, epoch: int) -> list[Claim]:
        return []

    async def release(self, claim_ids: Iterable[str]) -> None:
        return None

    async def record_dispatches(self, dispatches: Sequence[DispatchFact]) -> None:
        return None

    async def dispatched(self, keys: Iterable[str]) -> set[str]:
        return set()

    async def dispatch_facts(self, target_ids: Sequence[str]) -> list[DispatchFact]:
        return []


@dataclass
class FakeHandler:
    """Claims everything; records each batch sent with when it was sent; can fail once or
    hang when sending."""

    batches: list[tuple[float, list[str]]] = field(default_factory=list)
    claimed: list[str] = field(default_factory=list)
    recorded: list[DispatchFact] = field(default_factory=list)
    fail_next: bool = False
    hang: bool = False

    async def claim(self, items: Sequence[PendingItem]) -> Claimed:
        self.claimed.extend(i.target_id for i in items)
        return Claimed(owned=[Owned(i, f"{i.target_id}:1:0", None) for i in items])

    async def send(self, owned: Sequence[Owned]) -> DispatchReport:
        items = [o.item for o in owned]
        self.batches.append((time.time(), [i.target_id for i in items]))
        if self.hang:
            await asyncio.Event().wait()
        if self.fail_next:
            self.fail_next = False
            msg = "MongoDB went away"
            raise ConnectionError(msg)
        now = datetime.now(UTC)
        facts = [
            DispatchFact(i.target_id, i.post_id, i.epoch, i.due_at, now, "c", "me", "topic")
            for i in items
        ]
        return DispatchReport(sent=[(i, now) for i in items], facts=facts)

    async def dispatch(self, items: Sequence[PendingItem]) -> DispatchReport:
        return await self.send((await self.claim(items)).owned)

    async def record(self, facts: Sequence[DispatchFact]) -> None:
        self.recorded.extend(facts)


def make(handler: FakeHandler, queue: FakeQueue, **settings: float) -> Dispatcher:
    config = DispatchSettings.model_validate({"poll_interval_s": 5.0, "batch_size": 2, **settings})
    metrics = SchedulerMetrics.create(CollectorRegistry())
    return Dispatcher(handler, queue, metrics, config, clock=lambda: datetime.now(UTC))


async def test_wakes_at_the_due_time_not_at_the_poll_interval() -> None:
    handler, queue = FakeHandler(), FakeQueue()
    dispatcher = make(handler, queue)
    dispatcher.start()
    try:
        await asyncio.sleep(0.05)
        due = datetime.now(UTC) + timedelta(seconds=0.3)
        dispatcher.notify([item(1, due)])
        await asyncio.sleep(0.6)
    finally:
        await dispatcher.stop()
    [(at, ids)] = handler.batches
    assert ids == ["t1"]
    assert 0 <= at - due.timestamp() < 0.1  # the poll interval is 5 s
    assert queue.removed == ["t1:1"]
    assert handler.claimed == ["t1"]  # claimed ahead, once
    assert [(f.target_id, f.epoch) for f in handler.recorded] == [("t1", 1)]


async def test_due_targets_go_in_batches_and_a_failed_batch_comes_back() -> None:
    now = datetime.now(UTC)
    handler, queue = FakeHandler(fail_next=True), FakeQueue([item(n, now) for n in range(5)])
    dispatcher = make(handler, queue, poll_interval_s=0.05)
    dispatcher.start()

    async def all_sent() -> bool:
        return {t for _, ids in handler.batches[1:] for t in ids} == {f"t{n}" for n in range(5)}

    try:
        await eventually(all_sent, timeout_s=10, interval_s=0.05)
        await asyncio.sleep(1.2)  # the janitor's round
    finally:
        await dispatcher.stop()
    sent = [ids for _, ids in handler.batches]
    assert all(len(ids) <= 2 for ids in sent)
    assert sorted({t for ids in sent[1:] for t in ids}) == ["t0", "t1", "t2", "t3", "t4"]
    assert sent[0] == ["t0", "t1"]  # failed, then dispatched again
    assert sorted(queue.removed) == ["t0:1", "t1:1", "t2:1", "t3:1", "t4:1"]


async def test_a_stuck_loop_is_reported() -> None:
    handler = FakeHandler(hang=True)
    dispatcher = make(handler, FakeQueue([item(1, datetime.now(UTC))]), stuck_after_s=0.2)
    assert dispatcher.problem() == "the dispatcher is not running"
    dispatcher.start()
    try:
        await asyncio.sleep(0.1)
        healthy = dispatcher.problem()
        await asyncio.sleep(0.4)
        stuck = dispatcher.problem()
    finally:
        await dispatcher.stop()
    assert healthy is None
    assert stuck is not None
    assert "has not gone round" in stuck
