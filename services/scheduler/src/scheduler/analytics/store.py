"""Insights snapshots in the scheduler's database (docs/adr/0020-analytics-read-model.md).

`post_insights` holds one document per `(target_id, age_s)`, `_id` `<target_id>:<age_s>`, the
same identity the publishers' collector gives a snapshot (ADR 0003): the first event recorded
for it is kept and a repeated one (redelivered, or collected again after a crash) is a
duplicate by the unique `_id`, found without reading first. Reads are equalities on declared
indexes (docs/architecture.md, "Store rules"): a post's snapshots by `post_id`, a business's
period by its publication-time buckets (`scheduler.analytics.buckets`).

Snapshots stored before the buckets existed are given theirs once, in the background after
startup (`backfill`), which then writes a marker; until a reader sees that marker it reads a
period by the whole-business query it used before (correct, slower), and once seen never asks
again.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from herald.events import MessageStatusEvent, PostInsightsCollected, PostInsightsUnavailable
from herald.mongo import Document
from herald.topics import Platform
from scheduler.analytics import buckets
from scheduler.analytics.buckets import aware, published_moment
from scheduler.analytics.latest import LatestSnapshots
from scheduler.deliveries import parent_of

SNAPSHOTS = "post_insights"
PRICING = "message_pricing"
MARKERS = "analytics_markers"
BUCKETED = "post_insights.buckets"  # the marker: every snapshot stored has its buckets
READS_AT_ONCE = 8  # a period's bucket reads in flight at once
# Updates per command: FerretDB 1.24 holds a PostgreSQL connection per update of a command until
# the command ends, and its pool has 50 (500 at once deadlocked it).
BACKFILL_BATCH = 16
BACKFILL_RETRY_S = 30.0

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class StoredSnapshot:
    target_id: str
    post_id: str
    business_id: str
    integration_id: str
    platform: Platform
    platform_post_id: str | None
    published_at: datetime | None
    age_s: int
    collected_at: datetime
    metrics: dict[str, Any]
    kind: str | None = None  # the post kind, where the platform has several (Instagram)
    # A snapshot the platform would not give: its code and message (no metrics then).
    unavailable: dict[str, str | None] | None = None


def snapshot_id(target_id: str, age_s: int) -> str:
    return f"{target_id}:{age_s}"


class MongoAnalytics:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._snapshots = db[SNAPSHOTS]
        self._pricing = db[PRICING]
        self._markers = db[MARKERS]
        self._bucketed = False  # the backfill's marker seen (it is never taken back)
        self._latest = LatestSnapshots(db, self._markers)

    async def ensure_indexes(self) -> None:
        await self._snapshots.create_index([("post_id", ASCENDING)])
        await self._snapshots.create_index([("business_id", ASCENDING)])
        for field in (buckets.DAY, buckets.WEEK):
            await self._snapshots.create_index(
                [("business_id", ASCENDING), (field, ASCENDING)], name=f"by_{field}"
            )
        await self._pricing.create_index([("post_id", ASCENDING)])
        await self._latest.ensure_indexes()

    async def record(
        self,
        event: PostInsightsCollected | PostInsightsUnavailable,
        *,
        kind: str | None,
        event_id: str,
        received_at: datetime,
    ) -> bool:
        """Store a snapshot, or the platform's refusal of one; False when one for its
        `(target_id, age_s)` is stored already (the first told is kept)."""
        if isinstance(event, PostInsightsCollected):
            at, metrics, refusal = event.collected_at, event.metrics, None
        else:
            at, metrics = event.failed_at, {}
            refusal = {"code": event.error.code, "message": event.error.message}
        doc: Document = {
            "_id": snapshot_id(event.target_id, event.age_s),
            "target_id": event.target_id,
            "post_id": event.post_id,
            "business_id": event.business_id,
            "integration_id": event.integration_id,
            "platform": event.platform.value,
            "platform_post_id": event.platform_post_id,
            "published_at": event.published_at,
            **buckets.stamp(published_moment(event.published_at, at, event.age_s)),
            "age_s": event.age_s,
            "collected_at": at,
            "metrics": metrics,
            "kind": kind,
            "event_id": event_id,
            "received_at": received_at,
        }
        if refusal is not None:
            doc["unavailable"] = refusal
        try:
            await self._snapshots.insert_one(doc)
        except DuplicateKeyError:
            # Told again: the first told is kept, and kept as the latest too (a crash may have
            # come between the two writes).
            stored = await self._snapshots.find_one({"_id": doc["_id"]})
            if stored is not None:
                await self._latest.keep(stored)
            return False
        await self._latest.keep(doc)
        return True

    async def record_pricing(self, event: MessageStatusEvent) -> bool:
        """A message's pricing category, once per message id (the first status naming it)."""
        doc: Document = {
            "_id": event.message_id,
            "post_id": event.post_id,
            "business_id": event.business_id,
            "parent_target_id": parent_of(event.target_id),
            "category": event.pricing_category,
        }
        try:
            await self._pricing.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def pricing_of(self, business_id: str, post_id: str) -> dict[str, dict[str, int]]:
        """Messages by pricing category, per WhatsApp target (a broadcast, not its batches)."""
        found: dict[str, dict[str, int]] = {}
        async for doc in self._pricing.find({"post_id": post_id}):
            if doc.get("business_id") != business_id:
                continue
            counts = found.setdefault(str(doc["parent_target_id"]), {})
            counts[str(doc["category"])] = counts.get(str(doc["category"]), 0) + 1
        return found

    async def of_post(self, business_id: str, post_id: str) -> list[StoredSnapshot]:
        """The post's snapshots, by target and then age."""
        found = [
            _snapshot(doc)
            async for doc in self._snapshots.find({"post_id": post_id})
            if doc.get("business_id") == business_id
        ]
        return sorted(found, key=lambda s: (s.target_id, s.age_s))

    async def of_business(
        self,
        business_id: str,
        published: tuple[datetime, datetime],
        *,
        platform: str | None = None,
        integration_id: str | None = None,
    ) -> list[StoredSnapshot]:
        """The business's snapshots of targets published in `[from, to)`: equality reads of the
        period's weeks and days (a few at once), the exact bounds applied to what they select.
        Until every snapshot has its buckets (`backfill`), the `business_id` index's whole
        selection instead."""
        query = _scope(business_id, platform, integration_id)
        return await self._read(self._snapshots.find, query, published, await self.bucketed())

    async def latest_of_business(
        self,
        business_id: str,
        published: tuple[datetime, datetime],
        *,
        platform: str | None = None,
        integration_id: str | None = None,
    ) -> list[StoredSnapshot]:
        """Each target's latest snapshot with figures, of the business's targets published in
        `[from, to)` (as that snapshot dates the publication): read from the kept latest
        (`scheduler.analytics.latest`) by the period's weeks and days, or, until every target's
        latest is kept, found in the period's history."""
        if not (await self._latest.kept() and await self.bucketed()):
            history = await self.of_business(
                business_id, published, platform=platform, integration_id=integration_id
            )
            return latest_per_target(s for s in history if s.unavailable is None)
        query = _scope(business_id, platform, integration_id)
        return await self._read(self._latest.find, query, published, by_bucket=True)

    async def _read(
        self, find: Any, query: Document, published: tuple[datetime, datetime], by_bucket: bool
    ) -> list[StoredSnapshot]:
        """What `find` selects of the query's targets published in `[from, to)`: equality reads
        of the period's weeks and days (a few at once), or the query's whole selection when not
        `by_bucket`; the exact bounds applied to what they select."""
        start, end = published
        if by_bucket:
            reads = [query | {field: value} for field, value in buckets.buckets(start, end)]
            docs = await _each(find, reads)
        else:
            docs = await find(query).to_list()
        found = []
        for doc in docs:
            snapshot = _snapshot(doc)
            at = published_moment(snapshot.published_at, snapshot.collected_at, snapshot.age_s)
            if start <= at < end:
                found.append(snapshot)
        return found

    async def bucketed(self) -> bool:
        """Whether every snapshot stored has its buckets (the backfill's marker is written)."""
        if not self._bucketed:
            self._bucketed = await self._markers.find_one({"_id": BUCKETED}) is not None
        return self._bucketed

    async def backfill(self) -> int:
        """Give every snapshot stored without buckets its buckets, then write the marker that
        lets readers rely on them; how many were given. Once the marker exists this reads only
        it. Replicas running it at once write the same values."""
        if await self.bucketed():
            return 0
        older = await self._snapshots.find(
            {buckets.DAY: {"$exists": False}},
            {"published_at": 1, "collected_at": 1, "age_s": 1},
        ).to_list()
        for i in range(0, len(older), BACKFILL_BATCH):
            updates = [
                UpdateOne({"_id": doc["_id"]}, {"$set": buckets.stamp(buckets.stored_moment(doc))})
                for doc in older[i : i + BACKFILL_BATCH]
            ]
            await self._snapshots.bulk_write(updates, ordered=False)
        # A DuplicateKeyError is another replica's upsert of the marker a moment before.
        with contextlib.suppress(DuplicateKeyError):
            await self._markers.update_one(
                {"_id": BUCKETED}, {"$set": {"at": datetime.now(UTC)}}, upsert=True
            )
        self._bucketed = True
        return len(older)

    async def backfill_latest(self) -> int:
        """Keep every target's latest snapshot from the history stored before they were kept
        (`scheduler.analytics.latest`), then write its marker; how many targets were written."""
        return await self._latest.backfill(self._snapshots)

    async def backfill_until_done(self) -> None:
        """`backfill`, then `backfill_latest`, retried while the store fails (run in the
        background after startup)."""
        while True:
            try:
                given = await self.backfill()
                kept = await self.backfill_latest()
            except PyMongoError as exc:
                log.warning("insights_backfill_failed", error=str(exc), retry_s=BACKFILL_RETRY_S)
                await asyncio.sleep(BACKFILL_RETRY_S)
                continue
            if given or kept:
                log.info("insights_backfilled", snapshots=given, latest_targets=kept)
            return


def latest_per_target(snapshots: Iterable[StoredSnapshot]) -> list[StoredSnapshot]:
    """Each target's snapshot of the greatest age among `snapshots`."""
    latest: dict[str, StoredSnapshot] = {}
    for snapshot in snapshots:
        known = latest.get(snapshot.target_id)
        if known is None or snapshot.age_s > known.age_s:
            latest[snapshot.target_id] = snapshot
    return list(latest.values())


def _scope(business_id: str, platform: str | None, integration_id: str | None) -> Document:
    query: Document = {"business_id": business_id}
    if platform is not None:
        query["platform"] = platform
    if integration_id is not None:
        query["integration_id"] = integration_id
    return query


async def _each(find: Any, queries: list[Document]) -> list[Document]:
    """Every document the queries select, `READS_AT_ONCE` queries in flight at a time."""
    gate = asyncio.Semaphore(READS_AT_ONCE)

    async def one(query: Document) -> list[Document]:
        async with gate:
            found: list[Document] = await find(query).to_list()
            return found

    batches = await asyncio.gather(*(one(q) for q in queries))
    return [doc for batch in batches for doc in batch]


def _snapshot(doc: Document) -> StoredSnapshot:
    return StoredSnapshot(
        target_id=doc["target_id"],
        post_id=doc["post_id"],
        business_id=doc["business_id"],
        integration_id=doc["integration_id"],
        platform=Platform(doc["platform"]),
        platform_post_id=doc.get("platform_post_id"),
        published_at=aware(doc.get("published_at")),
        age_s=int(doc["age_s"]),
        collected_at=aware(doc["collected_at"]) or doc["collected_at"],
        metrics=dict(doc.get("metrics") or {}),
        kind=doc.get("kind"),
        unavailable=doc.get("unavailable"),
    )
