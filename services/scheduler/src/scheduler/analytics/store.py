"""Insights snapshots in the scheduler's database (docs/adr/0020-analytics-read-model.md).

`post_insights` holds one document per `(target_id, age_s)`, `_id` `<target_id>:<age_s>`, the
same identity the publishers' collector gives a snapshot (ADR 0003): the first event recorded
for it is kept and a repeated one (redelivered, or collected again after a crash) is a
duplicate by the unique `_id`, found without reading first. Reads are equalities on the declared
`post_id` and `business_id` indexes (docs/architecture.md, "Store rules").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.events import MessageStatusEvent, PostInsightsCollected, PostInsightsUnavailable
from herald.mongo import Document
from herald.topics import Platform
from scheduler.deliveries import parent_of

SNAPSHOTS = "post_insights"
PRICING = "message_pricing"


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

    async def ensure_indexes(self) -> None:
        await self._snapshots.create_index([("post_id", ASCENDING)])
        await self._snapshots.create_index([("business_id", ASCENDING)])
        await self._pricing.create_index([("post_id", ASCENDING)])

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
            return False
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
        """The business's snapshots of targets published in `[from, to)`: an equality on the
        `business_id` index (and the filters' fields), the window applied to what it selects."""
        query: Document = {"business_id": business_id}
        if platform is not None:
            query["platform"] = platform
        if integration_id is not None:
            query["integration_id"] = integration_id
        start, end = published
        found = []
        async for doc in self._snapshots.find(query):
            snapshot = _snapshot(doc)
            at = snapshot.published_at or snapshot.collected_at - timedelta(seconds=snapshot.age_s)
            if start <= at < end:
                found.append(snapshot)
        return found


def _snapshot(doc: Document) -> StoredSnapshot:
    return StoredSnapshot(
        target_id=doc["target_id"],
        post_id=doc["post_id"],
        business_id=doc["business_id"],
        integration_id=doc["integration_id"],
        platform=Platform(doc["platform"]),
        platform_post_id=doc.get("platform_post_id"),
        published_at=_aware(doc.get("published_at")),
        age_s=int(doc["age_s"]),
        collected_at=_aware(doc["collected_at"]) or doc["collected_at"],
        metrics=dict(doc.get("metrics") or {}),
        kind=doc.get("kind"),
        unavailable=doc.get("unavailable"),
    )


def _aware(value: Any) -> datetime | None:
    """MongoDB gives back naive UTC datetimes."""
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
