"""Schedulers as processes on one database: two replicas dispatch 1,000 due targets with none
missed (duplicates counted and reported), and a scheduler killed with SIGKILL and restarted
dispatches every target that fell due while it was down."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from herald.events import PostRequested
from herald.testkit import Collector
from herald.topics import Platform
from scheduler.testing import SchedulerEnv, eventually, seed
from scheduler.testprocess import ServiceProcess

pytestmark = pytest.mark.e2e


def dispatched(collector: Collector, topic: str) -> Counter[str]:
    return Counter(e.target_id for e in collector.events(PostRequested, topic))


def metric(text: str, name: str) -> float:
    values = [
        float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.MULTILINE)
    ]
    return sum(values)


async def test_two_replicas_dispatch_every_target(
    scheduler_env: SchedulerEnv, tmp_path: Path
) -> None:
    env = scheduler_env
    topic = env.names.requested(Platform.FACEBOOK)
    replicas = [ServiceProcess(env.env(), str(tmp_path / f"replica-{n}.log")) for n in range(2)]
    async with Collector(env.kafka_bootstrap, [topic]) as collector:
        try:
            await asyncio.gather(*(r.start() for r in replicas))
            due = datetime.now(UTC) + timedelta(seconds=5)
            targets = await seed(env, posts=20, targets_per_post=50, due_at=lambda _: due)
            await collector.wait_for(
                lambda c: set(dispatched(c, topic)) >= set(targets), timeout_s=120
            )
            await asyncio.sleep(3.0)  # let any duplicate arrive before counting
            facts = await env.db["dispatches"].find({}, {"owner": 1}).to_list()
        finally:
            for replica in replicas:
                replica.stop()
    counts = dispatched(collector, topic)
    missed = set(targets) - set(counts)
    duplicates = sum(n - 1 for n in counts.values())
    owners = Counter(f["owner"] for f in facts)
    print(  # noqa: T201 - the report the issue asks for
        f"\n2 replicas, {len(targets)} targets: missed={len(missed)} duplicates={duplicates} "
        f"split={sorted(owners.values())}"
    )
    assert len(targets) == 1000
    assert missed == set()
    assert duplicates == 0  # expected in the normal case: claims are unique inserts
    assert len(facts) == 1000


async def test_killed_scheduler_dispatches_what_fell_due_while_down(
    scheduler_env: SchedulerEnv, tmp_path: Path
) -> None:
    env = scheduler_env
    topic = env.names.requested(Platform.FACEBOOK)
    settings = env.env(
        HERALD_SCHEDULER_DISPATCH__CLAIM_LEASE_S="3",
        HERALD_SCHEDULER_DISPATCH__OVERDUE_AFTER_S="1",
    )
    first = ServiceProcess(settings, str(tmp_path / "first.log"))
    second = ServiceProcess(settings, str(tmp_path / "second.log"))
    start = datetime.now(UTC) + timedelta(seconds=20)
    targets = await seed(
        env,
        posts=20,
        targets_per_post=5,
        due_at=lambda n: start + timedelta(seconds=0.4 * n),  # 100 targets over 8 s
    )
    assert datetime.now(UTC) < start - timedelta(seconds=8), "seeding took too long"
    async with Collector(env.kafka_bootstrap, [topic]) as collector:
        try:
            await first.start()
            await collector.wait_for(lambda c: len(dispatched(c, topic)) >= 15, timeout_s=60)
            first.kill()
            before = set(dispatched(collector, topic))
            end = start + timedelta(seconds=9)
            await asyncio.sleep(max((end - datetime.now(UTC)).total_seconds(), 1.0))
            await second.start()
            restarted = datetime.now(UTC)
            await collector.wait_for(
                lambda c: set(dispatched(c, topic)) >= set(targets), timeout_s=120
            )
            text = await eventually(second.metrics)
        finally:
            first.stop()
            second.stop()
    fell_due_while_down = set(targets) - before
    due = {t: start + timedelta(seconds=0.4 * (i // 5)) for i, t in enumerate(targets)}
    long_overdue = [t for t in fell_due_while_down if due[t] < restarted - timedelta(seconds=1)]
    overdue = metric(text, "herald_scheduler_overdue_dispatches_total")
    counts = dispatched(collector, topic)
    again = sum(n - 1 for n in counts.values())
    print(  # noqa: T201 - the figures behind the assertion
        f"\nbefore the kill: {len(before)} dispatched; after restart: "
        f"{len(fell_due_while_down)} more, {overdue:.0f} counted overdue, {again} sent again "
        "(produced but not yet recorded when killed: at-least-once)"
    )
    assert fell_due_while_down
    assert set(counts) == set(targets)
    assert again <= len(before)  # only what the killed process had sent can go out twice
    assert len(long_overdue) > 20
    assert overdue >= len(long_overdue)
