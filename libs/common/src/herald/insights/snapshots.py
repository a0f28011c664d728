"""Insights snapshots in the publisher's own database, and the ledger read that finds the posts
due for one (docs/adr/0003-insights-collection.md).

`insights` holds one document per (target, age), `_id` `<target>:<age>`: `collecting` while a
job holds it, then `collected` (with the metrics), `retry` (a transient failure; `next_at`) or
`failed`. Claims follow docs/architecture.md, "Store rules": the first claim is an
insert into the unique `_id`; a claim on an existing document is taken only when its lease or
retry time has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.errors import PlatformError
from herald.ledger import LEDGER, EntryState
from herald.mongo import Document

INSIGHTS = "insights"
_CLAIM = timedelta(minutes=5)


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
        await self._ledger.create_index([("state", 1), ("result.published_at", 1)])

    async def published_between(
        self, oldest: datetime, newest: datetime, limit: int
    ) -> list[PublishedPost]:
        query = {
            "state": EntryState.PUBLISHED.value,
            "result.published_at": {"$gte": oldest, "$lte": newest},
            "result.platform_post_id": {"$ne": None},
        }
        cursor = self._ledger.find(query).sort("result.published_at", 1).limit(limit)
        return [_published(doc) async for doc in cursor]

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

    async def claim(self, key: str, post: PublishedPost, age_s: int, now: datetime) -> bool:
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
                return False
            if _aware(existing["until"]) > now:
                return False
            changes = {"state": "collecting", "until": now + _CLAIM}
            await self._snapshots.update_one({"_id": key}, {"$set": changes})
        return True

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
