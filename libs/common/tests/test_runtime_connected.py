"""The publisher runtime on real Kafka and FerretDB, with fake platforms (issue 3's proofs).

Topics are isolated per test (a unique prefix) and use short delay tiers (1 s, 3 s).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from herald.delivery import REPLAYED_FROM
from herald.events import PostFailed, PostPublished, PostRetryScheduled
from herald.replay import ReplayFilter, replay
from herald.testing import MongoFakePlatform, Plan
from herald.testkit import Collector, post_requested, producer, running, send_event
from herald.topics import Platform

from .conftest import RuntimeEnv

pytestmark = pytest.mark.connected


def published_for(collector: Collector, target: str) -> list[PostPublished]:
    return [e for e in collector.events(PostPublished) if e.target_id == target]


async def test_a_transient_failure_is_retried_at_its_due_time_without_blocking_others(
    runtime_env: RuntimeEnv,
) -> None:
    env = runtime_env
    platform = MongoFakePlatform(
        env.db,
        plans={
            "a": Plan(transient_failures=1),
            "b": Plan(transient_failures=1),
            "d": Plan(transient_failures=1),
        },
    )
    topics = [env.names.post_results]
    async with Collector(env.infra.kafka_bootstrap, topics) as out, running(env.app(platform)):
        async with producer(env.infra.kafka_bootstrap) as client:
            await send_event(client, env.requested, post_requested("a"), key="acct-0", partition=0)
            await send_event(client, env.requested, post_requested("d"), key="acct-1", partition=1)
            await out.wait_for(lambda c: len(c.events(PostRetryScheduled)) == 2)
            await send_event(client, env.requested, post_requested("b"), key="acct-0", partition=0)
            await send_event(client, env.requested, post_requested("c"), key="acct-0", partition=0)
        await out.wait_for(lambda c: all(published_for(c, t) for t in "abcd"), timeout_s=30)

    scheduled = {e.target_id: e for e in out.events(PostRetryScheduled)}
    for target in "abd":
        calls = await platform.calls(target)
        due = scheduled[target].next_attempt_at
        assert len(calls) == 2
        assert scheduled[target].tier == "1s"
        assert due <= calls[1] <= due + timedelta(seconds=1), (target, due, calls[1])
    # c, right behind b on partition 0 of the request topic, ran before b's retry was due.
    c_done = (await platform.calls("c"))[0]
    assert c_done < (await platform.calls("b"))[1]
    # b waited in the tier behind a: it ran after a, at its own due time.
    assert (await platform.calls("b"))[1] >= (await platform.calls("a"))[1]
    assert [await platform.visible_publishes(t) for t in "abcd"] == [1, 1, 1, 1]


async def test_exhausted_retries_dead_letter_and_a_replay_then_publishes(
    runtime_env: RuntimeEnv,
) -> None:
    env = runtime_env
    failing = MongoFakePlatform(env.db, default=Plan(transient_failures=2))
    dlq = env.names.dlq(Platform.FACEBOOK)
    app = env.app(failing, max_attempts=2, backoff_s=[1.0])
    async with (
        Collector(env.infra.kafka_bootstrap, [env.names.post_results, dlq]) as out,
        running(app),
    ):
        async with producer(env.infra.kafka_bootstrap) as client:
            await send_event(client, env.requested, post_requested("x"), key="acct-9")
        await out.wait_for(lambda c: bool(c.on(dlq)) and bool(c.events(PostFailed)))

        [dead] = out.on(dlq)
        assert dead.key == b"acct-9"
        assert dead.headers["x-error-category"] == "transient"
        assert dead.headers["x-error-code"] == "2"
        assert dead.headers["x-error-reason"] == "gave up after 2 attempts"
        assert dead.headers["ce_type"] == "herald.post.requested.v1"
        [failed] = out.events(PostFailed)
        assert (failed.final, failed.attempt, failed.error.category.value) == (
            True,
            2,
            "transient",
        )

        # The outage is over (the fake fails twice only); operations replay the dead letter.
        report = await replay(
            env.infra.kafka_bootstrap,
            Platform.FACEBOOK,
            names=env.names,
            only=ReplayFilter(codes=frozenset({"2"})),
        )
        assert report.replayed == [f"{dlq}:{dead.partition}:{dead.offset}"]
        await out.wait_for(lambda c: bool(published_for(c, "x")))

    assert published_for(out, "x")[0].attempt == 1
    assert await failing.visible_publishes("x") == 1


async def test_a_replay_filter_that_matches_nothing_replays_nothing(
    runtime_env: RuntimeEnv,
) -> None:
    env = runtime_env
    failing = MongoFakePlatform(env.db, default=Plan(transient_failures=5))
    dlq = env.names.dlq(Platform.FACEBOOK)
    async with (
        Collector(env.infra.kafka_bootstrap, [dlq]) as out,
        running(env.app(failing, max_attempts=1, backoff_s=[])),
    ):
        async with producer(env.infra.kafka_bootstrap) as client:
            await send_event(client, env.requested, post_requested("y"), key="acct-2")
        await out.wait_for(lambda c: bool(c.on(dlq)))
    report = await replay(
        env.infra.kafka_bootstrap,
        Platform.FACEBOOK,
        names=env.names,
        only=ReplayFilter(codes=frozenset({"131056"})),
    )
    assert (report.scanned, report.replayed) == (1, [])


async def test_a_wait_and_resume_flow_completes_through_the_tiers_without_blocking(
    runtime_env: RuntimeEnv,
) -> None:
    env = runtime_env
    platform = MongoFakePlatform(
        env.db, plans={"slow": Plan(kind="two_phase", checks=3, wait_s=1.0)}
    )
    async with (
        Collector(env.infra.kafka_bootstrap, [env.names.post_results]) as out,
        running(env.app(platform)),
    ):
        async with producer(env.infra.kafka_bootstrap) as client:
            await send_event(
                client, env.requested, post_requested("slow"), key="acct-0", partition=0
            )
            await send_event(
                client, env.requested, post_requested("fast"), key="acct-0", partition=0
            )
        await out.wait_for(
            lambda c: bool(published_for(c, "slow")) and bool(published_for(c, "fast"))
        )

    slow_calls, fast_calls = await platform.calls("slow"), await platform.calls("fast")
    assert len(slow_calls) == 4  # three status checks, then the publish
    assert fast_calls[0] < slow_calls[1]  # the fast one did not wait for the slow one's checks
    assert out.events(PostRetryScheduled) == []  # waiting is progress, not a retry
    assert await platform.visible_publishes("slow") == 1


@pytest.mark.parametrize(
    ("body", "headers", "code"),
    [
        (b"not json at all", {}, "not_json"),
        (b"\xff\xfe not even UTF-8", {}, "not_json"),
        (b"{}", None, "bad_headers"),
        (b"{}", {"ce_type": "herald.post.exploded.v1"}, "unknown_type"),
        (b'{"post_id": "p"}', {}, "invalid_event"),
        (b"{}", {"ce_specversion": "0.1"}, "bad_headers"),
        (b"{}", {"ce_id": b"\xff\xfe"}, "bad_headers"),
    ],
)
async def test_malformed_messages_are_dead_lettered_and_the_partition_flows_on(
    runtime_env: RuntimeEnv, body: bytes, headers: dict[str, object] | None, code: str
) -> None:
    env = runtime_env
    platform = MongoFakePlatform(env.db)
    dlq = env.names.dlq(Platform.FACEBOOK)
    base: dict[str, object] = {
        "ce_specversion": "1.0",
        "ce_id": "e1",
        "ce_source": "t",
        "ce_type": "herald.post.requested.v1",
    }
    raw = (
        []
        if headers is None
        else [
            (k, v if isinstance(v, bytes) else str(v).encode())
            for k, v in {**base, **headers}.items()
        ]
    )
    async with (
        Collector(env.infra.kafka_bootstrap, [env.names.post_results, dlq]) as out,
        running(env.app(platform)),
    ):
        async with producer(env.infra.kafka_bootstrap) as client:
            await client.send_and_wait(env.requested, body, key=b"acct-0", partition=0, headers=raw)
            await send_event(
                client, env.requested, post_requested("after"), key="acct-0", partition=0
            )
        await out.wait_for(lambda c: bool(c.on(dlq)) and bool(published_for(c, "after")))

    [dead] = out.on(dlq)
    assert dead.value == body
    assert dead.headers["x-error-code"] == code
    assert dead.headers["x-error-category"] == "invalid_event"
    assert dead.headers["x-error-message"]


async def test_replayed_messages_carry_where_they_came_from(runtime_env: RuntimeEnv) -> None:
    env = runtime_env
    dlq = env.names.dlq(Platform.FACEBOOK)
    async with producer(env.infra.kafka_bootstrap) as client:
        await client.send_and_wait(
            dlq,
            json.dumps({"x": 1}).encode(),
            key=b"k",
            headers=[("x-error-code", b"2"), ("x-attempt", b"4"), ("ce_id", b"e9")],
        )
    async with Collector(env.infra.kafka_bootstrap, [env.requested]) as out:
        report = await replay(env.infra.kafka_bootstrap, Platform.FACEBOOK, names=env.names)
        await out.wait_for(lambda c: len(c.received) == 1)
    [again] = out.received
    assert report.scanned == 1
    assert again.key == b"k"
    assert again.headers["ce_id"] == "e9"
    assert again.headers[REPLAYED_FROM] == report.replayed[0]
    assert "x-error-code" not in again.headers
    assert "x-attempt" not in again.headers
