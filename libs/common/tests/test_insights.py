"""The insights job with fakes: which ages are due, one snapshot per (post, age), a refresh on
an expired token, retries of transient failures and the end of permanent ones, and a refresh
a business asked for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from herald.errors import NeedsReauth, Permanent, PlatformError, Transient
from herald.insights import (
    InsightsCollector,
    InsightsSettings,
    InsightsSnapshot,
    PublishedPost,
    due_ages,
)
from herald.runtime.ports import Credentials
from herald.service import run_alongside
from herald.testing import StaticTokens

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HOUR, DAY = 3600, 86_400


def post(target: str = "t1", at: datetime = T0) -> PublishedPost:
    return PublishedPost(target, "p1", "b1", "i1", "facebook", f"page_{target}", at)


@dataclass
class MemoryStore:
    posts: list[PublishedPost] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)
    failures: list[tuple[str, str, datetime | None]] = field(default_factory=list)
    snapshots: list[InsightsSnapshot] = field(default_factory=list)
    unavailable_told: list[tuple[str, int, str | None]] = field(default_factory=list)

    async def published_between(
        self, oldest: datetime, newest: datetime, limit: int
    ) -> list[PublishedPost]:
        return [p for p in self.posts if oldest <= p.published_at <= newest][:limit]

    async def published(self, target_id: str) -> PublishedPost | None:
        return next((p for p in self.posts if p.target_id == target_id), None)

    async def claim(self, key: str, post: PublishedPost, age_s: int, now: datetime) -> bool:
        if self.states.get(key) in ("collected", "failed", "collecting"):
            return False
        self.states[key] = "collecting"
        return True

    async def ensure_indexes(self) -> None:
        self.states["indexes"] = "made"

    async def failed(
        self, key: str, error: PlatformError, next_at: datetime | None, max_attempts: int
    ) -> None:
        self.states[key] = "retry" if next_at else "failed"
        self.failures.append((key, error.category.value, next_at))

    async def emit(self, snapshot: InsightsSnapshot) -> None:
        self.states[snapshot.key] = "collected"
        self.snapshots.append(snapshot)

    async def attempts(self, key: str) -> int:
        return sum(1 for k, _, _ in self.failures if k == key)

    async def unavailable(
        self, post: PublishedPost, age_s: int, error: PlatformError, at: datetime
    ) -> None:
        self.unavailable_told.append((post.target_id, age_s, error.code))


@dataclass
class ScriptedReader:
    answers: list[dict[str, Any] | PlatformError] = field(default_factory=list)
    tokens_seen: list[str] = field(default_factory=list)

    async def read(self, credentials: Credentials, post: PublishedPost) -> dict[str, Any]:
        self.tokens_seen.append(credentials.access_token)
        answer = self.answers.pop(0) if self.answers else {"views": 10}
        if isinstance(answer, PlatformError):
            raise answer
        return answer


def collector(
    store: MemoryStore, reader: ScriptedReader, now: datetime, tokens: StaticTokens | None = None
) -> InsightsCollector:
    return InsightsCollector(
        store=store,
        reader=reader,
        tokens=tokens or StaticTokens(),
        sink=store,
        settings=InsightsSettings(ages_s=[DAY, HOUR, 7 * DAY], grace_s=DAY),
        clock=lambda: now,
    )


@pytest.mark.parametrize(
    ("elapsed_s", "due"),
    [
        (HOUR - 1, []),
        (HOUR, [HOUR]),
        (DAY + 1, [HOUR, DAY]),  # the 1 h snapshot may still be taken within its grace
        (2 * DAY - 1, [DAY]),
        (2 * DAY + HOUR, []),
        (7 * DAY + 5, [7 * DAY]),
    ],
)
def test_due_ages(elapsed_s: int, due: list[int]) -> None:
    now = T0 + timedelta(seconds=elapsed_s)
    assert due_ages(T0, now, [HOUR, DAY, 7 * DAY], grace_s=DAY) == due


def test_ages_are_sorted_unique_and_positive() -> None:
    assert InsightsSettings(ages_s=[DAY, HOUR, HOUR]).ages_s == [HOUR, DAY]
    with pytest.raises(ValidationError):
        InsightsSettings(ages_s=[0])
    with pytest.raises(ValidationError):
        InsightsSettings(ages_s=[])


async def test_one_snapshot_per_post_and_age_however_often_the_job_runs() -> None:
    store = MemoryStore(posts=[post("a"), post("b", T0 + timedelta(minutes=30))])
    reader = ScriptedReader()
    now = T0 + timedelta(hours=1, minutes=10)
    job = collector(store, reader, now)

    first = await job.run_once()
    second = await job.run_once()

    assert [(s.post.target_id, s.age_s) for s in first] == [("a", HOUR)]
    assert second == []
    assert store.snapshots[0].metrics == {"views": 10}
    assert store.snapshots[0].collected_at == now


async def test_an_expired_token_is_refreshed_once_for_the_read() -> None:
    store = MemoryStore(posts=[post()])
    reader = ScriptedReader([NeedsReauth("(#190) expired", code="190")])
    tokens = StaticTokens()

    [snapshot] = await collector(store, reader, T0 + timedelta(hours=1), tokens).run_once()

    assert tokens.refreshes == 1
    assert reader.tokens_seen == ["sandbox-token", "sandbox-token-r1"]
    assert snapshot.metrics == {"views": 10}


async def test_a_transient_failure_is_retried_later_and_a_permanent_one_ends() -> None:
    store = MemoryStore(posts=[post("a"), post("b")])
    reader = ScriptedReader([Transient("blip"), Permanent("(#100) bad metric", code="100")])
    now = T0 + timedelta(hours=1)

    assert await collector(store, reader, now).run_once() == []

    (key_a, kind_a, next_a), (key_b, kind_b, next_b) = store.failures
    assert (key_a, kind_a, next_a) == ("a:3600", "transient", now + timedelta(seconds=600))
    assert (key_b, kind_b, next_b) == ("b:3600", "permanent", None)
    assert store.states == {"a:3600": "retry", "b:3600": "failed"}
    assert store.unavailable_told == [("b", 3600, "100")]  # the permanent one, with its reason


async def test_a_snapshot_still_failing_at_its_last_attempt_is_told_unavailable() -> None:
    store = MemoryStore(posts=[post("a")])
    store.failures = [("a:3600", "transient", None)] * 4  # the fifth attempt is the last
    reader = ScriptedReader([Transient("(#10) Not enough viewers", code="10")])

    await collector(store, reader, T0 + timedelta(hours=1)).run_once()

    assert store.unavailable_told == [("a", 3600, "10")]


async def test_a_refresh_takes_one_snapshot_at_the_posts_current_age() -> None:
    store = MemoryStore(posts=[post("a")])
    now = T0 + timedelta(hours=5, seconds=7)
    job = collector(store, ScriptedReader(), now)

    snapshot = await job.refresh("a")
    again = await job.refresh("a")  # the same age: taken already
    unknown = await job.refresh("not-published-here")

    assert snapshot is not None
    assert (snapshot.key, snapshot.collected_at) == ("a:18007", now)
    assert (again, unknown) == (None, None)
    assert store.snapshots == [snapshot]


async def test_a_refresh_the_platform_refuses_is_told_unavailable_at_once() -> None:
    store = MemoryStore(posts=[post("a")])
    throttled = Transient("(#4) Application request limit reached", code="4")
    job = collector(store, ScriptedReader([throttled]), T0 + timedelta(minutes=30))

    assert await job.refresh("a") is None

    assert store.unavailable_told == [("a", 1800, "4")]  # one attempt, with the reason
    assert store.states == {"a:1800": "failed"}


async def test_the_job_runs_while_the_app_is_up_and_is_cancelled_with_it() -> None:
    events: list[str] = []

    @asynccontextmanager
    async def own(_: FastAPI) -> AsyncIterator[None]:
        events.append("app started")
        yield
        events.append("app stopped")

    app = FastAPI(lifespan=own)
    started = asyncio.Event()

    async def job() -> None:
        events.append("job started")
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            events.append("job cancelled")

    run_alongside(app, job)
    async with app.router.lifespan_context(app):
        await asyncio.wait_for(started.wait(), 5)

    assert events == ["app started", "job started", "job cancelled", "app stopped"]


async def test_a_failed_run_does_not_end_the_job() -> None:
    third_run = asyncio.Event()

    class Broken(MemoryStore):
        async def published_between(
            self, oldest: datetime, newest: datetime, limit: int
        ) -> list[PublishedPost]:
            self.states["runs"] = str(int(self.states.get("runs", "0")) + 1)
            if self.states["runs"] == "3":
                third_run.set()
            raise ConnectionError("database away")

    store = Broken()
    job = InsightsCollector(
        store=store,
        reader=ScriptedReader(),
        tokens=StaticTokens(),
        sink=store,
        settings=InsightsSettings(interval_s=0.01),
    )
    task = asyncio.create_task(job.run_forever())
    await asyncio.wait_for(third_run.wait(), 5)  # runs went on after failures
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    assert store.states["indexes"] == "made"
