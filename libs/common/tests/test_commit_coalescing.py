"""Offset commits of one consumer that meet while one is in flight go out as one request, and
every caller returns only once its own offset is committed."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError
from structlog.testing import capture_logs

from herald.consuming import commit, commit_soon

pytestmark = pytest.mark.unit


class FakeConsumer:
    """Records each commit request; `lost` partitions refuse, as after a rebalance."""

    def __init__(self, *, lost: frozenset[int] = frozenset(), broken: bool = False) -> None:
        self.requests: list[dict[TopicPartition, int]] = []
        self.committed: dict[TopicPartition, int] = {}
        self.lost = lost
        self.broken = broken
        self.gate = asyncio.Event()

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.requests.append(dict(offsets))
        await self.gate.wait()
        if self.broken:
            msg = "not a Kafka error"
            raise RuntimeError(msg)
        if any(tp.partition in self.lost for tp in offsets):
            msg = "Partition is not assigned"
            raise IllegalStateError(msg)
        self.committed.update(offsets)


def _record(partition: int, offset: int) -> Any:
    return SimpleNamespace(topic="t", partition=partition, offset=offset)


async def test_commits_meeting_in_flight_share_one_request() -> None:
    consumer = FakeConsumer()
    msg: Any = SimpleNamespace(consumer=consumer)
    first = asyncio.create_task(commit(msg, _record(0, 10)))
    await asyncio.sleep(0)  # the first request is in flight
    later = [
        asyncio.create_task(commit(msg, _record(0, 11))),
        asyncio.create_task(commit(msg, _record(0, 12))),
        asyncio.create_task(commit(msg, _record(1, 5))),
    ]
    await asyncio.sleep(0)
    assert not any(t.done() for t in [first, *later])  # nobody returns before its commit
    consumer.gate.set()
    await asyncio.gather(first, *later)

    assert consumer.requests == [
        {TopicPartition("t", 0): 11},
        {TopicPartition("t", 0): 13, TopicPartition("t", 1): 6},
    ]
    assert consumer.committed == {TopicPartition("t", 0): 13, TopicPartition("t", 1): 6}


async def test_a_lost_partition_does_not_cost_the_others_their_commit() -> None:
    consumer = FakeConsumer(lost=frozenset({1}))
    msg: Any = SimpleNamespace(consumer=consumer)
    first = asyncio.create_task(commit(msg, _record(2, 0)))
    await asyncio.sleep(0)
    merged = [
        asyncio.create_task(commit(msg, _record(0, 7))),
        asyncio.create_task(commit(msg, _record(1, 3))),
    ]
    await asyncio.sleep(0)
    consumer.gate.set()
    await asyncio.gather(first, *merged)  # a lost partition is logged, not raised

    together = {TopicPartition("t", 0): 8, TopicPartition("t", 1): 4}
    assert together in consumer.requests  # tried together first, then one at a time
    assert {TopicPartition("t", 0): 8} in consumer.requests
    assert consumer.committed == {TopicPartition("t", 2): 1, TopicPartition("t", 0): 8}


async def test_an_unexpected_failure_reaches_every_caller() -> None:
    consumer = FakeConsumer(broken=True)
    consumer.gate.set()
    msg: Any = SimpleNamespace(consumer=consumer)
    results = await asyncio.gather(
        commit(msg, _record(0, 1)), commit(msg, _record(0, 2)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)


async def test_commit_soon_returns_at_once_and_its_offsets_go_out_together() -> None:
    """The caller moves on before the broker answers; offsets committed meanwhile share the
    next request, and the highest of each partition wins."""
    consumer = FakeConsumer()
    msg: Any = SimpleNamespace(consumer=consumer)
    commit_soon(msg, _record(0, 10))  # returns without waiting: the gate is still shut
    await asyncio.sleep(0)
    commit_soon(msg, _record(0, 11))
    commit_soon(msg, _record(0, 12))
    assert consumer.committed == {}
    consumer.gate.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert consumer.requests == [{TopicPartition("t", 0): 11}, {TopicPartition("t", 0): 13}]
    assert consumer.committed == {TopicPartition("t", 0): 13}


async def test_a_failed_commit_soon_is_logged() -> None:
    consumer = FakeConsumer(broken=True)
    consumer.gate.set()
    msg: Any = SimpleNamespace(consumer=consumer)
    with capture_logs() as logs:
        commit_soon(msg, _record(0, 1))
        for _ in range(10):
            await asyncio.sleep(0)
    assert consumer.committed == {}
    failed = [e for e in logs if e["event"] == "offset.commit_failed"]
    assert failed
    assert "not a Kafka error" in failed[0]["error"]
