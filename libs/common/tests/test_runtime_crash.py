"""A consumer dies after the platform call and before the commit; another one takes over.

With a two-phase platform (prepare, then publish, whose status can be read back) the flow resumes
from the ledger's checkpoint: exactly one publish and one `post.published`. With a one-shot
platform nothing can be read back, so the window allows a duplicate; the test detects and reports
it (this is why the Facebook publisher checks the Page's recent posts after an ambiguous call).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from asyncio.subprocess import PIPE
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from herald.events import PostPublished
from herald.testing import MongoFakePlatform, Plan
from herald.testkit import Collector, post_requested, producer, running, send_event

from .conftest import RuntimeEnv

pytestmark = pytest.mark.connected

SCRIPT = Path(__file__).with_name("crash_consumer.py")


async def _until(check: Callable[[], Awaitable[bool]], timeout_s: float = 30.0) -> None:
    """Poll MongoDB (where the fake platform writes) until `check` holds."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            msg = f"not reached within {timeout_s}s"
            raise TimeoutError(msg)
        await asyncio.sleep(0.05)


async def _take_over(env: RuntimeEnv, out: Collector, kind: str, target: str) -> tuple[int, int]:
    """Run a healthy consumer until the target is published; (visible publishes, events)."""
    platform = MongoFakePlatform(env.db, default=Plan(kind=kind))
    async with running(env.app(platform)):
        await out.wait_for(
            lambda c: any(e.target_id == target for e in c.events(PostPublished)), timeout_s=60
        )
        await asyncio.sleep(2)  # room for a duplicate to show up, if there were one
    events = [e for e in out.events(PostPublished) if e.target_id == target]
    return await platform.visible_publishes(target), len(events)


def _report(kind: str, visible: int, events: int) -> None:
    """Say what the crash window did, in the test output (a duplicate is reported, not hidden)."""
    print(f"\n[crash window] {kind}: {visible} visible publish(es), {events} post.published")  # noqa: T201


@pytest.mark.parametrize(("kind", "expected_visible"), [("two_phase", 1), ("one_shot", 2)])
async def test_a_cancelled_consumer_then_a_new_one(
    runtime_env: RuntimeEnv, kind: str, expected_visible: int
) -> None:
    env = runtime_env
    target = f"cancel-{kind}"
    hanging = MongoFakePlatform(env.db, default=Plan(kind=kind, hang_after_visible=True))
    async with Collector(env.infra.kafka_bootstrap, [env.names.post_results]) as out:
        async with running(env.app(hanging)):
            async with producer(env.infra.kafka_bootstrap) as client:
                await send_event(client, env.requested, post_requested(target), key="acct-c")
            await _until(lambda: _visible(hanging, target))
        # Leaving the block stopped the broker: the handler was cancelled inside the window.
        visible, events = await _take_over(env, out, kind, target)

    _report(kind, visible, events)
    assert events == 1
    assert visible == expected_visible


@pytest.mark.parametrize(("kind", "expected_visible"), [("two_phase", 1), ("one_shot", 2)])
async def test_a_killed_consumer_process_then_a_new_one(
    runtime_env: RuntimeEnv, kind: str, expected_visible: int
) -> None:
    env = runtime_env
    target = f"kill-{kind}"
    tiers = json.dumps(dict(env.names.tiers))
    args = [
        env.infra.kafka_bootstrap,
        env.infra.mongo_uri,
        env.db.name,
        env.names.prefix,
        kind,
        tiers,
    ]
    proc = await asyncio.create_subprocess_exec(sys.executable, str(SCRIPT), *args, stdout=PIPE)
    try:
        assert proc.stdout is not None
        assert (await asyncio.wait_for(proc.stdout.readline(), 60)).strip() == b"ready"
        watcher = MongoFakePlatform(env.db)
        async with Collector(env.infra.kafka_bootstrap, [env.names.post_results]) as out:
            async with producer(env.infra.kafka_bootstrap) as client:
                await send_event(client, env.requested, post_requested(target), key="acct-k")
            await _until(lambda: _visible(watcher, target), timeout_s=60)
            proc.kill()  # SIGKILL: no cleanup of any kind
            await asyncio.wait_for(proc.wait(), 10)
            visible, events = await _take_over(env, out, kind, target)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    _report(kind, visible, events)
    assert proc.returncode == -signal.SIGKILL
    assert events == 1
    assert visible == expected_visible


async def _visible(platform: MongoFakePlatform, target: str) -> bool:
    return await platform.visible_publishes(target) >= 1
