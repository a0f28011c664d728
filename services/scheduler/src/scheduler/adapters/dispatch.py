"""The dispatch queue, claims and dispatch facts, and the local view of integrations.

Every write here is an insert or a delete by `_id`, and batches go in one `insert_many`: that
is what stays correct on FerretDB (no atomic read-modify-write) and fast on it too (its SQLite
handler runs each update as a scan, while a batch insert is one statement). See
docs/adr/0006-scheduler-dispatch-and-state.md for the claim protocol.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from herald.batching import InsertBatcher
from herald.mongo import Document
from herald.topics import Platform
from herald.tracing import TraceContext
from scheduler.adapters.documents import fact_document, fact_of
from scheduler.adapters.posts import find_each, insert_ignoring_duplicates
from scheduler.domain import dispatch_id
from scheduler.models import DispatchFact
from scheduler.ports import Claim, PendingItem, Request

DELETE_CHUNK = 500


class MongoDispatch:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._pending = db["pending"]
        self._claims = db["claims"]
        self._dispatches = db["dispatches"]
        self._pending_inserts = InsertBatcher(self._pending)  # concurrent submissions share

    async def ensure_indexes(self) -> None:
        await self._pending.create_index([("due_at", ASCENDING)], name="due")
        await self._claims.create_index(
            [("target_id", ASCENDING), ("epoch", ASCENDING)], name="by_target"
        )
        await self._dispatches.create_index([("target_id", ASCENDING)], name="by_target")

    async def add_pending(self, items: Sequence[PendingItem]) -> None:
        await self._pending_inserts.insert_many([_pending_doc(i) for i in items])

    async def pending_before(self, moment: datetime, limit: int) -> list[PendingItem]:
        cursor = self._pending.find({"due_at": {"$lte": moment}}).sort("due_at", ASCENDING)
        return [_pending_item(d) for d in await cursor.limit(limit).to_list()]

    async def remove_pending(self, keys: Iterable[str]) -> None:
        """Remove queue entries by `target:epoch` key."""
        ids = list(keys)
        for start in range(0, len(ids), DELETE_CHUNK):
            chunk = ids[start : start + DELETE_CHUNK]
            if len(chunk) == 1:
                await self._pending.delete_one({"_id": chunk[0]})
            else:
                await self._pending.delete_many({"_id": {"$in": chunk}})

    async def count_pending(self) -> int:
        return await self._pending.count_documents({})

    async def claim(self, claims: Sequence[Claim]) -> set[str]:
        docs = [
            {
                "_id": c.id,
                "target_id": c.target_id,
                "epoch": c.epoch,
                "generation": c.generation,
                "owner": c.owner,
                "kind": c.kind,
                "claimed_at": c.claimed_at,
            }
            for c in claims
        ]
        existed = await insert_ignoring_duplicates(self._claims, docs)
        return {c.id for i, c in enumerate(claims) if i not in existed}

    async def claims_for(self, target_id: str, epoch: int) -> list[Claim]:
        cursor = self._claims.find({"target_id": target_id, "epoch": epoch})
        docs = await cursor.sort("generation", DESCENDING).to_list()
        return [
            Claim(
                d["_id"],
                d["target_id"],
                d["epoch"],
                d["generation"],
                d["owner"],
                d["kind"],
                d["claimed_at"],
            )
            for d in docs
        ]

    async def release(self, claim_ids: Iterable[str]) -> None:
        # Only the holder releases, and only claims it inserted itself: nobody else can hold
        # that id, so deleting it races with no one.
        for claim in claim_ids:
            await self._claims.delete_one({"_id": claim})

    async def record_dispatches(self, dispatches: Sequence[DispatchFact]) -> None:
        await insert_ignoring_duplicates(self._dispatches, [fact_document(f) for f in dispatches])

    async def dispatched(self, keys: Iterable[str]) -> set[str]:
        found = await find_each(self._dispatches, "_id", list(keys), {"_id": 1})
        return {d["_id"] for d in found}

    async def dispatch_facts(self, target_ids: Sequence[str]) -> list[DispatchFact]:
        """Every recorded dispatch of these targets (for reading state and history)."""
        return [fact_of(d) for d in await find_each(self._dispatches, "target_id", target_ids)]


def _pending_doc(item: PendingItem) -> Document:
    return {
        "_id": dispatch_id(item.target_id, item.epoch),
        "target_id": item.target_id,
        "epoch": item.epoch,
        "due_at": item.due_at,
        "post_id": item.post_id,
        "business_id": item.business_id,
        "integration_id": item.integration_id,
        "platform": item.platform.value,
        "request": {"content": item.request.content, "options": item.request.options},
        "trace": item.trace.document() if item.trace else None,
    }


def _pending_item(doc: Document) -> PendingItem:
    return PendingItem(
        target_id=doc["target_id"],
        epoch=doc["epoch"],
        due_at=doc["due_at"],
        post_id=doc["post_id"],
        business_id=doc["business_id"],
        integration_id=doc["integration_id"],
        platform=Platform(doc["platform"]),
        request=Request(doc["request"]["content"], doc["request"]["options"]),
        trace=TraceContext.from_document(doc.get("trace")),
    )
