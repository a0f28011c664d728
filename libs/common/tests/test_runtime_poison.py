"""A request whose handling fails the same way every time is dead-lettered with the reason, not
put back forever (issue 19, finding 4): on real Kafka and FerretDB, a platform flow that raises
an `OverflowError` (a value that cannot be converted) and an outcome that cannot be stored (a
permalink with a lone surrogate) each become one dead letter naming the error at once, a flow
that raises a `KeyError` (a bug an input found) at its third attempt, each with one final
`post.failed`; the request behind them on the same partition is published. Before, the consumer
put each back every 2 s, holding its partition for good."""

from __future__ import annotations

import pytest

from herald.events import PostFailed, PostPublished, PostRequested
from herald.runtime.ports import Checkpoint, Credentials, Outcome, Published
from herald.testing import MongoFakePlatform
from herald.testkit import Collector, post_requested, producer, running, send_event
from herald.topics import Platform

from .conftest import RuntimeEnv

pytestmark = pytest.mark.connected


class BreakingPlatform(MongoFakePlatform):
    """Publishes like the fake, except that two targets break the handling for good."""

    async def publish(
        self, request: PostRequested, credentials: Credentials, checkpoint: Checkpoint
    ) -> Outcome:
        if request.target_id == "overflow":
            await self._count_call(request.target_id)
            msg = "date value out of range"
            raise OverflowError(msg)
        if request.target_id == "bug":
            await self._count_call(request.target_id)
            raise KeyError("page_id")
        if request.target_id == "unstorable":
            await self._count_call(request.target_id)
            return Published("p-1", "https://fake.example/\ud800")  # the ledger cannot hold it
        return await super().publish(request, credentials, checkpoint)


async def test_what_fails_the_same_way_each_time_is_dead_lettered_with_its_reason(
    runtime_env: RuntimeEnv,
) -> None:
    env = runtime_env
    platform = BreakingPlatform(env.db)
    dlq = env.names.dlq(Platform.FACEBOOK)
    topics = [env.names.post_results, dlq]
    async with Collector(env.infra.kafka_bootstrap, topics) as out, running(env.app(platform)):
        async with producer(env.infra.kafka_bootstrap) as client:
            for target in ("overflow", "unstorable", "bug", "after"):
                await send_event(
                    client, env.requested, post_requested(target), key="acct-0", partition=0
                )
        await out.wait_for(
            lambda c: (
                len(c.on(dlq)) == 3 and any(e.target_id == "after" for e in c.events(PostPublished))
            )
        )

    dead = {d.headers["ce_id"]: d.headers for d in out.on(dlq)}
    assert len(dead) == 3
    assert {h["x-error-code"] for h in dead.values()} == {"unprocessable"}
    messages = sorted(h["x-error-message"] for h in dead.values())
    assert messages[0] == "KeyError: 'page_id'"
    assert messages[1].startswith("OverflowError: date value out of range")
    assert "UnicodeEncodeError" in messages[2] or "InvalidStringData" in messages[2]
    failed = {e.target_id: e for e in out.events(PostFailed)}
    assert set(failed) == {"overflow", "unstorable", "bug"}
    assert all(e.final and e.error.code == "unprocessable" for e in failed.values())
    assert all(e.error.category.value == "unknown" for e in failed.values())
    # Answered, not put back again and again: at once, or at the third strike.
    assert [len(await platform.calls(t)) for t in ("overflow", "unstorable", "bug")] == [1, 1, 3]
