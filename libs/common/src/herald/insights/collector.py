"""Post insights at fixed ages after publishing (docs/adr/0003-insights-collection.md).

A periodic job in each publisher reads its own publication ledger for the posts whose next
snapshot is due (the queue of `herald.insights.snapshots`: the ones published since its last run,
and the 10-minute slots that have come), and for every age a post has reached and not outgrown
by more than the grace period takes one snapshot of its metrics through the platform's
`InsightsReader`; then it moves the post to the slot of its next age (or retry), or out of the
queue when none is left. Snapshots go to a `SnapshotSink`:
`PublishingSink` emits each as `herald.post.insights_collected.v1` on `post.insights` (for the
scheduler's analytics, ADR 0020, and other systems) and then marks it collected in the
publisher's own `insights` collection (`MongoSnapshots`). A snapshot's id is `<target>:<age>`,
so repeated or concurrent runs write the same snapshot, and a claim (an insert into a unique id)
keeps replicas from collecting the same one at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog
from pydantic import BaseModel, Field, field_validator

from herald.emitter import EventEmitter
from herald.errors import NeedsReauth, PlatformError, Throttled, Transient
from herald.events import FailureDetail, PostInsightsCollected, PostInsightsUnavailable
from herald.insights.metrics import InsightsMetrics
from herald.insights.snapshots import (
    Claim,
    DueEntry,
    InsightsSnapshot,
    PublishedPost,
    slot_of,
    slots_from,
    snapshot_key,
)
from herald.ledger import INSIGHTS_NEW
from herald.retention import DAY_S, RetentionSettings
from herald.runtime.ports import Credentials, TokenSource
from herald.topics import Platform

log = structlog.get_logger(__name__)


class InsightsSettings(BaseModel):
    model_config = {"extra": "forbid"}

    enabled: bool = True
    ages_s: list[int] = Field(
        default_factory=lambda: [3_600, 86_400, 604_800],
        description="Ages after publishing at which to snapshot a post's insights.",
    )
    interval_s: float = Field(default=60.0, gt=0, description="How often the job looks.")
    grace_s: float = Field(
        default=2 * 86_400.0, gt=0, description="How late a snapshot may still be taken."
    )
    retry_s: float = Field(default=600.0, gt=0, description="Wait after a transient failure.")
    max_attempts: int = Field(default=5, ge=1)
    batch: int = Field(
        default=200,
        ge=1,
        description="Posts looked at per run, of those due and again of those newly published.",
    )
    clock_url: str | None = Field(
        default=None,
        pattern=r"^https?://\S+$",
        description=(
            "Test systems only: the platform sandbox's GET /_sandbox/clock, whose offset the job "
            "adds to this machine's time (herald.insights.clock)."
        ),
    )

    @field_validator("ages_s")
    @classmethod
    def _positive_and_sorted(cls, value: list[int]) -> list[int]:
        if not value or any(age <= 0 for age in value):
            msg = "needs at least one age, each above 0 seconds"
            raise ValueError(msg)
        return sorted(set(value))


def require_ledger_beyond(retention: RetentionSettings, insights: InsightsSettings) -> None:
    """The insights job finds published posts in the ledger up to its oldest age plus the grace
    period: a retention that deletes them sooner is a configuration error."""
    reach_s = insights.ages_s[-1] + insights.grace_s
    if insights.enabled and retention.enabled and retention.keep_s <= reach_s:
        msg = (
            f"retention.keep_days ({retention.keep_days:g}) must be longer than the oldest "
            f"insights age plus insights.grace_s ({reach_s / DAY_S:g} days): the insights job "
            "reads published posts from the ledger until then"
        )
        raise ValueError(msg)


class SnapshotStore(Protocol):
    """Where the collector finds due posts and keeps its claims (`MongoSnapshots`)."""

    async def due(self, slot: str, limit: int) -> list[DueEntry]:
        """Entries in `slot`: "new" (published since), or a 10-minute slot."""
        ...

    async def overdue(self, before: str, limit: int) -> list[DueEntry]:
        """Entries in slots before `before`."""
        ...

    async def reschedule(self, target_id: str, slot: str | None) -> None:
        """Move the entry to `slot`, or out of the queue (None)."""
        ...

    async def backfill(self, since: datetime) -> int:
        """Once: entries published since `since` before the queue existed join it."""
        ...

    async def published(self, target_id: str) -> PublishedPost | None:
        """One published target of the ledger (a refresh asked for it), None if not published
        here."""
        ...

    async def claim(self, key: str, post: PublishedPost, age_s: int, now: datetime) -> Claim: ...

    async def attempts(self, key: str) -> int:
        """How many times taking the snapshot has failed so far."""
        ...

    async def ensure_indexes(self) -> None: ...

    async def failed(
        self, key: str, error: PlatformError, next_at: datetime | None, max_attempts: int
    ) -> None: ...


class InsightsReader(Protocol):
    async def read(self, credentials: Credentials, post: PublishedPost) -> dict[str, Any]: ...


class SnapshotSink(Protocol):
    async def emit(self, snapshot: InsightsSnapshot) -> None: ...

    async def unavailable(
        self, post: PublishedPost, age_s: int, error: PlatformError, at: datetime
    ) -> None:
        """A snapshot the platform will not give, with its reason (before it is recorded
        failed, so that a crash between the two tells it again)."""
        ...


class CollectedRecords(Protocol):
    """Where a collected snapshot is recorded once its event is out (`MongoSnapshots`)."""

    async def emit(self, snapshot: InsightsSnapshot) -> None: ...


class PublishingSink:
    """Emit the snapshot as an event first (acknowledged by the broker), then record it as
    collected: a crash between the two re-collects it later, and consumers de-duplicate on
    (target, age). A snapshot the platform will not give is told as
    `herald.post.insights_unavailable.v1`, before the collector records it failed."""

    def __init__(self, store: CollectedRecords, emitter: EventEmitter, *, topic: str) -> None:
        self._store = store
        self._emitter = emitter
        self._topic = topic

    async def emit(self, snapshot: InsightsSnapshot) -> None:
        post = snapshot.post
        event = PostInsightsCollected(
            post_id=post.post_id,
            target_id=post.target_id,
            business_id=post.business_id,
            integration_id=post.integration_id,
            platform=Platform(post.platform),
            platform_post_id=post.platform_post_id,
            published_at=post.published_at,
            age_s=snapshot.age_s,
            collected_at=snapshot.collected_at,
            metrics=numeric_metrics(snapshot.metrics),
        )
        await self._emitter.emit(event, topic=self._topic, key=post.post_id)
        await self._store.emit(snapshot)

    async def unavailable(
        self, post: PublishedPost, age_s: int, error: PlatformError, at: datetime
    ) -> None:
        event = PostInsightsUnavailable(
            post_id=post.post_id,
            target_id=post.target_id,
            business_id=post.business_id,
            integration_id=post.integration_id,
            platform=Platform(post.platform),
            platform_post_id=post.platform_post_id,
            published_at=post.published_at,
            age_s=age_s,
            failed_at=at,
            error=FailureDetail(
                category=error.category,
                code=error.code,
                subcode=error.subcode,
                message=error.message,
                remediation=error.remediation,
            ),
        )
        await self._emitter.emit(event, topic=self._topic, key=post.post_id)


def numeric_metrics(metrics: dict[str, Any]) -> dict[str, float | dict[str, float]]:
    """The numbers of a metrics document (breakdowns one level deep); anything else is dropped."""
    out: dict[str, float | dict[str, float]] = {}
    for name, value in metrics.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            out[name] = float(value)
        elif isinstance(value, dict):
            inner = {
                k: float(v)
                for k, v in value.items()
                if isinstance(v, int | float) and not isinstance(v, bool)
            }
            if inner:
                out[name] = inner
    return out


def due_ages(published_at: datetime, now: datetime, ages: list[int], grace_s: float) -> list[int]:
    """The ages a post has reached and not yet outgrown by more than the grace period."""
    elapsed = (now - published_at).total_seconds()
    return [age for age in ages if age <= elapsed <= age + grace_s]


class InsightsCollector:
    def __init__(
        self,
        *,
        store: SnapshotStore,
        reader: InsightsReader,
        tokens: TokenSource,
        sink: SnapshotSink,
        settings: InsightsSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        refresh_clock: Callable[[], Awaitable[None]] | None = None,
        metrics: InsightsMetrics | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._reader = reader
        self._tokens = tokens
        self._sink = sink
        self._settings = settings
        self._clock = clock
        self._refresh_clock = refresh_clock  # before each run (herald.insights.clock)
        self._read_from: str | None = None  # the first slot the next run reads

    async def run_once(self) -> list[InsightsSnapshot]:
        """Take every snapshot that is due now; returns the ones taken. The next run reads on
        from where this one ended only once every entry it read has been visited: a run that
        fails half-way (a database or token source away) is read again."""
        now, batch = self._clock(), self._settings.batch
        entries, read_on_from = await self._due_now(slot_of(now), batch)
        entries += await self._store.due(INSIGHTS_NEW, batch)
        self._count_read(len(entries))
        taken = []
        for entry in entries:
            taken += await self._visit(entry, now)
        self._read_from = read_on_from
        return taken

    async def _due_now(self, current: str, limit: int) -> tuple[list[DueEntry], str | None]:
        """The entries of the slots that have come since the last run (up to `limit`), and the
        slot the next run starts from (a slot not read to its end is read again). A process's
        first runs read, instead, the slots before the current one that a stopped job left
        behind (`overdue`), until one reads less than `limit`."""
        if self._read_from is None:
            entries = await self._store.overdue(current, limit)
            return entries, (current if len(entries) < limit else None)
        entries = []
        for slot in slots_from(self._read_from, current):
            entries += await self._store.due(slot, limit - len(entries))
            if len(entries) >= limit:
                return entries, slot
        return entries, current

    async def _visit(self, entry: DueEntry, now: datetime) -> list[InsightsSnapshot]:
        """Take the entry's due snapshots, then move it to the slot of its next age or retry,
        or out of the queue."""
        post = entry.post
        if post is None:  # not published here, or no platform post id yet (TikTok's comes
            await self._store.reschedule(entry.target_id, None)  # later and puts it back)
            return []
        ages, grace = self._settings.ages_s, self._settings.grace_s
        taken, again = [], []
        for age in due_ages(post.published_at, now, ages, grace):
            snapshot, retry_at = await self._collect(post, age, now)
            taken += [snapshot] if snapshot is not None else []
            again += [retry_at] if retry_at is not None else []
        elapsed = (now - post.published_at).total_seconds()
        upcoming = [post.published_at + timedelta(seconds=a) for a in ages if a > elapsed]
        moments = again + upcoming[:1]
        slot = slot_of(max(min(moments), now)) if moments else None
        if slot != entry.slot:
            await self._store.reschedule(entry.target_id, slot)
        return taken

    async def run_forever(self) -> None:
        """The job: run, wait `interval_s`, again; a failed run is logged and the next one runs."""
        await self._store.ensure_indexes()
        reach = self._settings.ages_s[-1] + self._settings.grace_s
        joined = await self._store.backfill(self._clock() - timedelta(seconds=reach))
        if joined:
            log.info("insights.queue_backfilled", entries=joined)
        while True:
            try:
                if self._refresh_clock is not None:
                    await self._refresh_clock()
                taken = await self.run_once()
                if taken:
                    log.info("insights.collected", snapshots=len(taken))
            except Exception:  # a database blip must not end the job; the next run retries
                log.exception("insights.run_failed")
            await asyncio.sleep(self._settings.interval_s)

    async def refresh(self, target_id: str) -> InsightsSnapshot | None:
        """A snapshot now, at the post's current age (a business asked for it:
        `herald.post.insights_requested.v1`), told as the scheduled ones are. One attempt: what
        the platform refuses, a throttle included, is told as unavailable at that age. None when
        the target is not published here or a snapshot at that age is taken already."""
        post = await self._store.published(target_id)
        if post is None:
            log.info("insights.refresh_not_published", target_id=target_id)
            return None
        if self._refresh_clock is not None:
            await self._refresh_clock()
        now = self._clock()
        age = max(0, int((now - post.published_at).total_seconds()))
        key = snapshot_key(post.target_id, age)
        if await self._store.claim(key, post, age, now) is not Claim.TAKEN:
            return None
        try:
            metrics = await self._read(post)
        except PlatformError as error:
            await self._sink.unavailable(post, age, error, now)
            self._count("unavailable")
            log.warning("insights.refresh_failed", key=key, code=error.code)
            await self._store.failed(key, error, None, 1)
            return None
        snapshot = InsightsSnapshot(post, age, now, metrics)
        await self._sink.emit(snapshot)
        self._count("collected")
        log.info("insights.refreshed", key=key)
        return snapshot

    async def _collect(
        self, post: PublishedPost, age: int, now: datetime
    ) -> tuple[InsightsSnapshot | None, datetime | None]:
        """The snapshot taken, if it was; and when to try again, if it is to be."""
        key = snapshot_key(post.target_id, age)
        claim = await self._store.claim(key, post, age, now)
        if claim is Claim.HELD:
            return None, now + timedelta(seconds=self._settings.interval_s)
        if claim is Claim.DONE:
            return None, None
        try:
            metrics = await self._read(post)
        except PlatformError as error:
            return None, await self._failed(key, post, age, error, now)
        snapshot = InsightsSnapshot(post, age, now, metrics)
        await self._sink.emit(snapshot)
        self._count("collected")
        return snapshot, None

    async def _read(self, post: PublishedPost) -> dict[str, Any]:
        credentials = await self._tokens.get(post.integration_id, post.business_id)
        try:
            return await self._reader.read(credentials, post)
        except NeedsReauth:
            credentials = await self._tokens.refresh(post.integration_id, post.business_id)
            return await self._reader.read(credentials, post)

    async def _failed(
        self, key: str, post: PublishedPost, age: int, error: PlatformError, now: datetime
    ) -> datetime | None:
        """Record the failure; when to try again (None: given up)."""
        retry = isinstance(error, Transient | Throttled)
        wait = error.retry_after_s or self._settings.retry_s
        next_at = now + timedelta(seconds=wait) if retry else None
        final = not retry or await self._store.attempts(key) + 1 >= self._settings.max_attempts
        if final:  # told first: a crash before it is recorded failed tells it again
            await self._sink.unavailable(post, age, error, now)
        self._count("unavailable" if final else "retry")
        log.warning(
            "insights.failed", key=key, category=error.category.value, code=error.code, retry=retry
        )
        await self._store.failed(key, error, next_at, self._settings.max_attempts)
        return None if final else next_at

    def _count(self, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.outcome(outcome)

    def _count_read(self, entries: int) -> None:
        if self._metrics is not None:
            self._metrics.last_run_read(entries)
