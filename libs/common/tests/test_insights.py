"""The insights job with fakes: which ages are due, one snapshot per (post, age), a refresh on
an expired token, retries of transient failures and the end of permanent ones, a refresh
a business asked for, and the queue of due posts (each moved to the slot of its next age, none
left behind however many are published)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from herald.errors import NeedsReauth, Permanent, PlatformError, Transient
from herald.insights import (
    Claim,
    DueEntry,
    InsightsCollector,
    InsightsSettings,
    InsightsSnapshot,
    PublishedPost,
    due_ages,
    slot_of,
)
from herald.insights.metrics import OUTCOMES, InsightsMetrics
from herald.insights.snapshots import slots_from
from herald.runtime.ports import Credentials
from herald.service import run_alongside
from herald.testing import StaticTokens

pytestmark = pytest.mark.unit

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HOUR, DAY = 3600, 86_400
HOUR_DELTA = timedelta(hours=1)


def post(target: str = "t1", at: datetime = T0) -> PublishedPost:
    return PublishedPost(target, "p1", "b1", "i1", "facebook", f"page_{target}", at)


@dataclass
class MemoryStore:
    """The ledger's queue and the snapshots' claims, as MongoSnapshots keeps them: every post
    starts "new" (as the ledger completes it); `reads` counts the entries each read returned."""

    posts: list[PublishedPost] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)
    failures: list[tuple[str, str, datetime | None]] = field(default_factory=list)
    snapshots: list[InsightsSnapshot] = field(default_factory=list)
    unavailable_told: list[tuple[str, int, str | None]] = field(default_factory=list)
    queue: dict[str, str] = field(default_factory=dict)
    without_ids: set[str] = field(default_factory=set)
    reads: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        for p in self.posts:
            self.queue.setdefault(p.target_id, "new")

    def _entries(self, slots: set[str] | None, before: str | None, limit: int) -> list[DueEntry]:
        found = [
            DueEntry(t, s, None if t in self.without_ids else self._post(t))
            for t, s in self.queue.items()
            if (slots is not None and s in slots) or (before is not None and s < before)
        ][:limit]
        self.reads.append(len(found))
        return found

    def _post(self, target_id: str) -> PublishedPost | None:
        return next((p for p in self.posts if p.target_id == target_id), None)

    async def due(self, slot: str, limit: int) -> list[DueEntry]:
        return self._entries({slot}, None, limit)

    async def overdue(self, before: str, limit: int) -> list[DueEntry]:
        return self._entries(None, before, limit)

    async def reschedule(self, target_id: str, slot: str | None) -> None:
        if slot is None:
            self.queue.pop(target_id, None)
        else:
            self.queue[target_id] = slot

    async def backfill(self, since: datetime) -> int:
        self.states["backfilled since"] = since.isoformat()
        return 0

    async def published(self, target_id: str) -> PublishedPost | None:
        return self._post(target_id)

    async def claim(self, key: str, post: PublishedPost, age_s: int, now: datetime) -> Claim:
        if self.states.get(key) in ("collected", "failed"):
            return Claim.DONE
        if self.states.get(key) in ("collecting", "retry"):
            return Claim.HELD
        self.states[key] = "collecting"
        return Claim.TAKEN

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


def clocked(
    store: MemoryStore,
    settings: InsightsSettings,
    clock: dict[str, datetime],
    reader: ScriptedReader | None = None,
    metrics: InsightsMetrics | None = None,
) -> InsightsCollector:
    """A job on `store` whose clock reads `clock["now"]`, which the test moves."""
    return InsightsCollector(
        store=store,
        reader=reader or ScriptedReader(),
        tokens=StaticTokens(),
        sink=store,
        settings=settings,
        clock=lambda: clock["now"],
        metrics=metrics,
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
        async def due(self, slot: str, limit: int) -> list[DueEntry]:
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


def test_slots_are_ten_minutes_long() -> None:
    assert slot_of(datetime(2026, 12, 7, 22, 39, 59, tzinfo=UTC)) == "2026-12-07T22:30"
    assert slot_of(datetime(2026, 12, 8, 0, 40, tzinfo=timezone(HOUR_DELTA))) == "2026-12-07T23:40"
    assert slots_from("2026-12-07T23:40", "2026-12-08T00:00") == [
        "2026-12-07T23:40",
        "2026-12-07T23:50",
        "2026-12-08T00:00",
    ]
    assert slots_from("2026-12-08T00:00", "2026-12-07T23:50") == []  # a clock set back


async def test_a_post_moves_through_the_queue_to_the_slot_of_each_next_age() -> None:
    store = MemoryStore(posts=[post("a", T0 + timedelta(minutes=5))])
    store.posts.append(post("idless"))
    store.queue["idless"] = "new"
    store.without_ids.add("idless")  # TikTok's post id not yet known: nothing to read
    clock = {"now": T0 + timedelta(minutes=6)}
    job = clocked(store, InsightsSettings(ages_s=[HOUR, DAY, 7 * DAY], grace_s=DAY), clock)

    assert await job.run_once() == []
    assert store.queue == {"a": "2026-11-26T13:00"}  # 13:05, its 1 h age; the idless one left
    for at, expected in (
        (T0 + timedelta(hours=1, minutes=5), "2026-11-27T12:00"),
        (T0 + timedelta(days=1, minutes=8), "2026-12-03T12:00"),
    ):
        clock["now"] = at
        assert len(await job.run_once()) == 1
        assert store.queue == {"a": expected}
    clock["now"] = T0 + timedelta(days=7, minutes=5)
    [last] = await job.run_once()
    assert last.age_s == 7 * DAY
    assert store.queue == {}  # no age left: out of the queue
    assert [s.age_s for s in store.snapshots] == [HOUR, DAY, 7 * DAY]


async def test_a_retry_waits_in_the_slot_of_its_time() -> None:
    store = MemoryStore(posts=[post("a")])
    reader = ScriptedReader([Transient("blip", retry_after_s=1_800)])
    now = T0 + timedelta(hours=1, minutes=1)

    assert await collector(store, reader, now).run_once() == []

    assert store.queue == {"a": "2026-11-26T13:30"}  # 13:31, when the platform said to retry


async def test_no_post_is_left_behind_however_many_are_published() -> None:
    # One post every 3 minutes for three days, a job reading 10 of each kind per run every 10
    # minutes: the range read this replaces took the oldest 200 of nine days each run, and never
    # reached the newer ones once more than that were due.
    posts = [post(f"t{i}", T0 + timedelta(minutes=3 * i)) for i in range(1_440)]
    store = MemoryStore()
    clock = {"now": T0}
    job = clocked(store, InsightsSettings(ages_s=[HOUR, DAY], grace_s=HOUR, batch=10), clock)
    for step in range(5 * 144):
        clock["now"] = T0 + timedelta(minutes=10 * step)
        for p in posts[:]:  # published by now: the ledger completes it into the queue as new
            if p.published_at <= clock["now"]:
                store.posts.append(p)
                store.queue[p.target_id] = "new"
                posts.remove(p)
        await job.run_once()

    taken_all = store.snapshots
    taken = {(s.post.target_id, s.age_s) for s in taken_all}
    assert len(taken) == len(taken_all) == 2 * 1_440  # every post's 1 h and 24 h
    late = [s.collected_at - s.post.published_at - timedelta(seconds=s.age_s) for s in taken_all]
    assert max(late) <= timedelta(minutes=10)  # each in the first run after it fell due
    assert max(store.reads) <= 10  # no read returned more than one batch
    assert store.queue == {}


async def test_a_new_process_first_reads_what_a_stopped_job_left_behind() -> None:
    store = MemoryStore(posts=[post(f"t{i}") for i in range(5)])
    store.queue = {f"t{i}": "2026-11-26T13:00" for i in range(5)}  # due at 13:00, job stopped
    clock = {"now": T0 + timedelta(hours=3)}
    job = clocked(store, InsightsSettings(ages_s=[HOUR, DAY], grace_s=DAY, batch=2), clock)

    runs = [len(await job.run_once()) for _ in range(4)]

    assert runs == [2, 2, 1, 0]  # two by two, until a read returned less than a batch
    assert set(store.queue.values()) == {"2026-11-27T12:00"}  # each at its 24 h age


async def test_the_job_counts_each_snapshots_outcome_and_what_its_run_read() -> None:
    registry = CollectorRegistry()
    metrics = InsightsMetrics.create(registry, "facebook")
    store = MemoryStore(posts=[post("a"), post("b"), post("c")])
    reader = ScriptedReader([Transient("blip"), Permanent("(#100) bad metric", code="100")])
    clock = {"now": T0 + timedelta(hours=1)}
    job = clocked(
        store,
        InsightsSettings(ages_s=[HOUR, DAY], grace_s=DAY),
        clock,
        reader=reader,
        metrics=metrics,
    )

    await job.run_once()

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, {"platform": "facebook", **labels})

    counted = {o: value("herald_insights_snapshots_total", outcome=o) for o in OUTCOMES}
    assert counted == {"collected": 1.0, "retry": 1.0, "unavailable": 1.0}
    assert value("herald_insights_queue_entries_read") == 3.0  # the three new entries


async def test_a_run_that_fails_half_way_is_read_again() -> None:
    class Flaky(MemoryStore):
        broken = True

        async def claim(self, key: str, post: PublishedPost, age_s: int, now: datetime) -> Claim:
            if self.broken and key.startswith("b:"):
                raise ConnectionError("database away")
            return await super().claim(key, post, age_s, now)

    store = Flaky(posts=[post("a"), post("b")])
    store.queue = {"a": "2026-11-26T13:00", "b": "2026-11-26T13:00"}
    clock = {"now": T0 + timedelta(minutes=55)}
    job = clocked(store, InsightsSettings(ages_s=[HOUR, DAY], grace_s=DAY), clock)
    assert await job.run_once() == []  # caught up: nothing before 12:50, the slot-by-slot reads
    clock["now"] = T0 + timedelta(hours=1, minutes=25)  # 13:25: the 13:00 slot has come

    with pytest.raises(ConnectionError):
        await job.run_once()
    store.broken = False
    clock["now"] = T0 + timedelta(hours=1, minutes=41)  # the next run, in a later slot
    taken = await job.run_once()

    assert {(s.post.target_id, s.age_s) for s in store.snapshots} == {("a", HOUR), ("b", HOUR)}
    assert [s.post.target_id for s in taken] == ["b"]  # the 13:00 slot read again
