"""Settling behind (`PublisherSettings.settle_behind`) on real Kafka and FerretDB: a request's
ledger writes, results and commit run while the next request of its partition starts, offsets
still commit in order, and a failure to settle loses nothing and reports nothing twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI

from herald.events import PostPublished
from herald.ledger import Lease
from herald.runtime.app import runtime_of
from herald.testing import MongoFakePlatform, Plan
from herald.testkit import Collector, post_requested, producer, running, send_event

from .conftest import RuntimeEnv

pytestmark = pytest.mark.connected


def published(collector: Collector, target: str) -> list[PostPublished]:
    return [e for e in collector.events(PostPublished) if e.target_id == target]


def wrap_complete(
    app: FastAPI, *, slow: dict[str, float], fail_once: set[str]
) -> dict[str, datetime]:
    """Make the app's ledger `complete` slow or failing for some targets; returns when each
    target's completion landed, in the order they did."""
    ledger = runtime_of(app).ledger
    original = ledger.complete
    journal: dict[str, datetime] = {}

    async def complete(lease: Lease, result: dict[str, Any]) -> None:
        target = lease.target_id
        await asyncio.sleep(slow.get(target, 0.0))
        if target in fail_once:
            fail_once.discard(target)
            msg = f"ledger unreachable while completing {target} (test)"
            raise RuntimeError(msg)
        await original(lease, result)
        journal[target] = datetime.now(UTC)

    ledger.complete = complete  # type: ignore[method-assign]
    return journal


async def test_the_next_request_starts_while_the_one_before_settles(
    runtime_env: RuntimeEnv,
) -> None:
    env = runtime_env
    platform = MongoFakePlatform(env.db)
    app = env.app(platform)
    completed = wrap_complete(app, slow={"a": 1.5}, fail_once=set())
    async with Collector(env.infra.kafka_bootstrap, [env.names.post_results]) as out:
        async with running(app), producer(env.infra.kafka_bootstrap) as client:
            for target in "abc":
                await send_event(
                    client, env.requested, post_requested(target), key="acct-0", partition=0
                )
            await out.wait_for(lambda c: all(published(c, t) for t in "abc"), timeout_s=30)
        # Started again on the same group: every offset was committed, nothing runs twice.
        async with running(env.app(platform)):
            await asyncio.sleep(3)

    b_called = (await platform.calls("b"))[0].replace(tzinfo=UTC)
    assert b_called < completed["a"]  # b's platform call did not wait for a's ledger write
    assert [len(published(out, t)) for t in "abc"] == [1, 1, 1]
    assert [await platform.visible_publishes(t) for t in "abc"] == [1, 1, 1]
    assert [len(await platform.calls(t)) for t in "abc"] == [1, 1, 1]


async def test_a_request_that_fails_to_settle_runs_again_before_the_one_behind_it_reports(
    runtime_env: RuntimeEnv,
) -> None:
    env = runtime_env
    # Two-phase flows: a redelivery resumes from the checkpoint instead of publishing again.
    platform = MongoFakePlatform(env.db, default=Plan(kind="two_phase"))
    app = env.app(platform)
    completed = wrap_complete(app, slow={"c": 0.5}, fail_once={"c"})
    async with (
        Collector(env.infra.kafka_bootstrap, [env.names.post_results]) as out,
        running(app),
        producer(env.infra.kafka_bootstrap) as client,
    ):
        for target in "cde":
            await send_event(
                client, env.requested, post_requested(target), key="acct-0", partition=0
            )
        await out.wait_for(lambda c: all(published(c, t) for t in "cde"), timeout_s=30)
        await asyncio.sleep(2)  # anything reported twice would arrive by now

    # d started while c settled, and c's settling failed: d was recorded, not reported; c ran
    # again first (partition rewound to it), then d found its outcome in the ledger.
    assert list(completed).index("d") < list(completed).index("c")
    assert [len(published(out, t)) for t in "cde"] == [1, 1, 1]
    assert [await platform.visible_publishes(t) for t in "cde"] == [1, 1, 1]
    order = [e.target_id for e in out.events(PostPublished)]
    assert order.index("c") < order.index("d")


async def test_the_last_request_of_a_partition_that_fails_to_settle_runs_again_and_reports(
    runtime_env: RuntimeEnv,
) -> None:
    """Nothing came behind it: when it is read again, its own failed settling is no request
    "before" it (the fleet chaos run lost such a request when the store restarted: read again,
    it was taken for one behind a failed one, recorded only, and the next request's commit
    passed over it)."""
    env = runtime_env
    platform = MongoFakePlatform(env.db, default=Plan(kind="two_phase"))
    app = env.app(platform)
    wrap_complete(app, slow={}, fail_once={"f"})
    async with (
        Collector(env.infra.kafka_bootstrap, [env.names.post_results]) as out,
        running(app),
        producer(env.infra.kafka_bootstrap) as client,
    ):
        await send_event(client, env.requested, post_requested("f"), key="acct-0", partition=0)
        await out.wait_for(lambda c: bool(published(c, "f")), timeout_s=30)
        await send_event(client, env.requested, post_requested("g"), key="acct-0", partition=0)
        await out.wait_for(lambda c: bool(published(c, "g")), timeout_s=30)
        await asyncio.sleep(2)  # anything reported twice would arrive by now

    assert [len(published(out, t)) for t in "fg"] == [1, 1]
    assert [await platform.visible_publishes(t) for t in "fg"] == [1, 1]
