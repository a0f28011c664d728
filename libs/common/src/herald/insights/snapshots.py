"""Insights snapshots in the publisher's own database, and the ledger reads that find the posts
due for one (docs/adr/0003-insights-collection.md).

The posts due are found by equality, never by a range over every published post (on FerretDB a
range is not pushed down: the read decoded every published entry of the ledger each minute, and
with a limit took the oldest each time, so the newest were never reached). A published ledger
entry holds `insights_due`: "new" when the ledger completes it, then the 10-minute slot
(`slot_of`) of its next snapshot or retry, set by the collector after each visit and removed
when no age is left. The collector reads "new" and the slots that have come since its last run,
each an equality on an index. Once per process it reads the slots before its first (`overdue`,
a range: a scan on FerretDB, an index on MongoDB), which a stopped job left behind.

`insights` holds one document per (target, age), `_id` `<target>:<age>`: `collecting` while a
job holds it, then `collected` (with the metrics), `retry` (a transient failure; `next_at`) or
`failed`. Claims follow docs/architecture.md, "Store rules": the first claim is an
insert into the unique `_id`; a claim on an existing document is taken only when its lease or
retry time has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.errors import PlatformError
from herald.ledger import INSIGHTS_DUE, INSIGHTS_NEW, LEDGER, EntryState
from herald.mongo import Document

INSIGHTS = "insights"
_CLAIM = timedelta(minutes=5)
SLOT = timedelta(minutes=10)
_SLOT_FORMAT = "%Y-%m-%dT%H:%M"
# In `insights`: published entries older than this version's queue were given a place in it.
BACKFILLED = "ledger.insights_due"
_WANTED = ["post_id", "business_id", "integration_id", "platform", "state", "result", INSIGHTS_DUE]


def slot_of(moment: datetime) -> str:
    """The 10-minute slot `moment` falls in, as stored in `insights_due` ("2026-12-07T22:30")."""
    moment = _aware(moment).astimezone(UTC)
    start = moment.replace(minute=moment.minute - moment.minute % 10, second=0, microsecond=0)
    return start.strftime(_SLOT_FORMAT)


def slots_from(first: str, last: str) -> list[str]:
    """Every slot from `first` to `last`, both included (none if `last` is before `first`)."""
    moment = datetime.strptime(first, _SLOT_FORMAT).replace(tzinfo=UTC)
    end = datetime.strptime(last, _SLOT_FORMAT).replace(tzinfo=UTC)
    slots = []
    while moment <= end:
        slots.append(moment.strftime(_SLOT_FORMAT))
        moment += SLOT
    return slots


class Claim(StrEnum):
    TAKEN = "taken"  # this job takes the snapshot now
    DONE = "done"  # collected or given up already
    HELD = "held"  # another job holds it, or its retry is not due yet


@dataclass(frozen=True)
class PublishedPost:
    target_id: str
    post_id: str
    business_id: str
    integration_id: str
    platform: str
    platform_post_id: str
    published_at: datetime


@dataclass(frozen=True)
class DueEntry:
    """A ledger entry in the insights queue: its slot, and the post (None when the entry is not
    published, or has no platform post id yet: nothing to read)."""

    target_id: str
    slot: str
    post: PublishedPost | None


@dataclass(frozen=True)
class InsightsSnapshot:
    post: PublishedPost
    age_s: int
    collected_at: datetime
    metrics: dict[str, Any]

    @property
    def key(self) -> str:
        return snapshot_key(self.post.target_id, self.age_s)


def snapshot_key(target_id: str, age_s: int) -> str:
    return f"{target_id}:{age_s}"


class MongoSnapshots:
    """The store the collector works from, and (for now) the sink its snapshots go to."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._ledger = db[LEDGER]
        self._snapshots = db[INSIGHTS]

    async def ensure_indexes(self) -> None:
        await self._snapshots.create_index([("target_id", 1)])
        await self._ledger.create_index([(INSIGHTS_DUE, 1)])

    async def due(self, slot: str, limit: int) -> list[DueEntry]:
        """Entries in `slot` ("new" or a 10-minute slot): an equality, served by the index."""
        cursor = self._ledger.find({INSIGHTS_DUE: slot}, _WANTED).limit(limit)
        return [_due(doc) async for doc in cursor]

    async def overdue(self, before: str, limit: int) -> list[DueEntry]:
        """Entries in slots before `before` ("new" sorts after every slot: not among them)."""
        cursor = self._ledger.find({INSIGHTS_DUE: {"$lt": before}}, _WANTED).limit(limit)
        return [_due(doc) async for doc in cursor]

    async def reschedule(self, target_id: str, slot: str | None) -> None:
        """Move the entry to `slot`, or out of the queue (None)."""
        change = {"$set": {INSIGHTS_DUE: slot}} if slot else {"$unset": {INSIGHTS_DUE: ""}}
        await self._ledger.update_one({"_id": target_id}, change)

    async def backfill(self, since: datetime) -> int:
        """Once per database: entries published since `since` before the queue existed join it
        as "new"; how many. Afterwards this reads only the marker."""
        if await self._snapshots.find_one({"_id": BACKFILLED}) is not None:
            return 0
        old = {
            "state": EntryState.PUBLISHED.value,
            "result.published_at": {"$gte": since},
            INSIGHTS_DUE: {"$exists": False},
        }
        joined = await self._ledger.update_many(old, {"$set": {INSIGHTS_DUE: INSIGHTS_NEW}})
        marker = {"state": "marker", "at": datetime.now(UTC)}
        await self._snapshots.update_one({"_id": BACKFILLED}, {"$set": marker}, upsert=True)
        return joined.modified_count

    async def published(self, target_id: str) -> PublishedPost | None:
        """The target if this publisher published it and knows its platform post id."""
        doc = await self._ledger.find_one(
            {
                "_id": target_id,
                "state": EntryState.PUBLISHED.value,
                "result.platform_post_id": {"$ne": None},
            }
        )
        return None if doc is None else _published(doc)

    async def claim(self, key: str, post: PublishedPost, age_s: int, now: datetime) -> Claim:
        doc: Document = {
            "_id": key,
            "target_id": post.target_id,
            "post_id": post.post_id,
            "age_s": age_s,
            "state": "collecting",
            "until": now + _CLAIM,
            "attempts": 0,
        }
        try:
            await self._snapshots.insert_one(doc)
        except DuplicateKeyError:
            existing = await self._snapshots.find_one({"_id": key})
            if existing is None or existing["state"] in ("collected", "failed"):
                return Claim.DONE
            if _aware(existing["until"]) > now:
                return Claim.HELD
            changes = {"state": "collecting", "until": now + _CLAIM}
            await self._snapshots.update_one({"_id": key}, {"$set": changes})
        return Claim.TAKEN

    async def emit(self, snapshot: InsightsSnapshot) -> None:
        post = snapshot.post
        document = {
            "target_id": post.target_id,
            "post_id": post.post_id,
            "business_id": post.business_id,
            "integration_id": post.integration_id,
            "platform": post.platform,
            "platform_post_id": post.platform_post_id,
            "published_at": post.published_at,
            "age_s": snapshot.age_s,
            "collected_at": snapshot.collected_at,
            "metrics": snapshot.metrics,
            "state": "collected",
        }
        await self._snapshots.update_one({"_id": snapshot.key}, {"$set": document}, upsert=True)

    async def attempts(self, key: str) -> int:
        existing = await self._snapshots.find_one({"_id": key}) or {}
        return int(existing.get("attempts", 0))

    async def failed(
        self, key: str, error: PlatformError, next_at: datetime | None, max_attempts: int
    ) -> None:
        existing = await self._snapshots.find_one({"_id": key}) or {}
        attempts = int(existing.get("attempts", 0)) + 1
        final = next_at is None or attempts >= max_attempts
        changes: dict[str, Any] = {
            "state": "failed" if final else "retry",
            "attempts": attempts,
            "until": next_at or datetime.now(UTC),
            "error": {
                "category": error.category.value,
                "code": error.code,
                "message": error.message,
            },
        }
        await self._snapshots.update_one({"_id": key}, {"$set": changes})

    async def get(self, target_id: str) -> list[Document]:
        cursor = self._snapshots.find({"target_id": target_id}).sort("age_s", 1)
        return [doc async for doc in cursor]


def _due(doc: Document) -> DueEntry:
    result = doc.get("result") or {}
    published = (
        doc.get("state") == EntryState.PUBLISHED.value
        and result.get("platform_post_id") is not None
        and isinstance(result.get("published_at"), datetime)
    )
    post = _published(doc) if published else None
    return DueEntry(str(doc["_id"]), str(doc[INSIGHTS_DUE]), post)


def _published(doc: Document) -> PublishedPost:
    return PublishedPost(
        target_id=doc["_id"],
        post_id=doc["post_id"],
        business_id=doc["business_id"],
        integration_id=doc["integration_id"],
        platform=doc["platform"],
        platform_post_id=str(doc["result"]["platform_post_id"]),
        published_at=_aware(doc["result"]["published_at"]),
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
