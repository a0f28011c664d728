"""Broadcasts waiting for expansion, recipients of WhatsApp posts and their delivery facts.

Every write is an insert under a deterministic `_id` (or a delete by `_id`): a recipient is
`<broadcast target>/<recipient id>`, so two expansions of one broadcast cannot both take a
contact; a fact is one per (recipient, status) or (recipient, outcome, epoch), so a duplicate
or redelivered event is stored once. Nothing is ever updated, which is what keeps it correct on
FerretDB, whose concurrent updates of one document lose writes (architecture §7).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from herald.mongo import Document
from scheduler.adapters.posts import find_each, insert_ignoring_duplicates
from scheduler.domain import dispatch_id
from scheduler.ports import BroadcastItem, Doc


class MongoRecipients:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._queue = db["broadcast_queue"]
        self._recipients = db["recipients"]
        self._facts = db["recipient_facts"]

    async def ensure_indexes(self) -> None:
        await self._queue.create_index([("due_at", ASCENDING)], name="due")
        await self._recipients.create_index(
            [("post_id", ASCENDING), ("_id", ASCENDING)], name="by_post"
        )
        await self._recipients.create_index([("parent_target_id", ASCENDING)], name="by_parent")
        await self._recipients.create_index([("target_id", ASCENDING)], name="by_target")
        await self._facts.create_index([("key", ASCENDING)], name="by_recipient")
        await self._facts.create_index([("post_id", ASCENDING)], name="by_post")

    async def enqueue(self, items: Sequence[BroadcastItem]) -> None:
        docs = [
            {
                "_id": dispatch_id(i.target_id, i.epoch),
                "target_id": i.target_id,
                "epoch": i.epoch,
                "due_at": i.due_at,
                "post_id": i.post_id,
                "business_id": i.business_id,
                "integration_id": i.integration_id,
                "index": i.index,
            }
            for i in items
        ]
        await insert_ignoring_duplicates(self._queue, docs)

    async def due(self, moment: datetime, limit: int) -> list[BroadcastItem]:
        cursor = self._queue.find({"due_at": {"$lte": moment}}).sort("due_at", ASCENDING)
        return [
            BroadcastItem(
                d["target_id"],
                d["epoch"],
                d["due_at"],
                d["post_id"],
                d["business_id"],
                d["integration_id"],
                d["index"],
            )
            for d in await cursor.limit(limit).to_list()
        ]

    async def dequeue(self, keys: Sequence[str]) -> None:
        for key in keys:
            await self._queue.delete_one({"_id": key})

    async def count_queue(self) -> int:
        return await self._queue.count_documents({})

    async def add_recipients(self, recipients: Sequence[Doc]) -> set[int]:
        return await insert_ignoring_duplicates(self._recipients, recipients)

    async def recipients_of_parent(self, parent_target_id: str) -> list[Doc]:
        return await self._recipients.find({"parent_target_id": parent_target_id}).to_list()

    async def recipients_of_targets(self, target_ids: Sequence[str]) -> list[Doc]:
        return await find_each(self._recipients, "target_id", target_ids)

    async def recipients_of_post(self, post_id: str) -> list[Doc]:
        """Without what was sent (components), which counting does not need."""
        projection = {"components": 0, "name": 0, "business_id": 0}
        return await self._recipients.find({"post_id": post_id}, projection).to_list()

    async def recipients_page(self, post_id: str, after: str | None, limit: int) -> list[Doc]:
        query: Doc = {"post_id": post_id}
        if after is not None:
            query["_id"] = {"$gt": after}
        return await self._recipients.find(query).sort("_id", ASCENDING).limit(limit).to_list()

    async def get_recipient(self, key: str) -> Doc | None:
        return await self._recipients.find_one({"_id": key})

    async def add_facts(self, facts: Sequence[Doc]) -> set[int]:
        return await insert_ignoring_duplicates(self._facts, facts)

    async def facts_for(self, keys: Sequence[str]) -> list[Doc]:
        return await find_each(self._facts, "key", keys)

    async def facts_of_post(self, post_id: str) -> list[Doc]:
        projection = {"key": 1, "kind": 1, "status": 1, "epoch": 1, "at": 1}
        return await self._facts.find({"post_id": post_id}, projection).to_list()
