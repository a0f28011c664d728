"""Broadcasts waiting for expansion, recipients of WhatsApp posts and their delivery facts.

Every write is an insert under a deterministic `_id` (or a delete by `_id`): a recipient is
`<broadcast target>/<recipient id>`, so two expansions of one broadcast cannot both take a
contact; a fact is one per (recipient, status) or (recipient, outcome, epoch), so a duplicate
or redelivered event is stored once. Nothing is ever updated, which is what keeps it correct on
FerretDB, whose concurrent updates of one document lose writes (architecture.md, "Store rules").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from herald.mongo import Document
from scheduler.adapters.posts import find_each, insert_ignoring_duplicates
from scheduler.deliveries import Fact, Recipient, RecordedFact
from scheduler.domain import dispatch_id
from scheduler.ports import BroadcastItem


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

    async def add_recipients(self, recipients: Sequence[Recipient]) -> set[int]:
        docs = [_recipient_document(r) for r in recipients]
        return await insert_ignoring_duplicates(self._recipients, docs)

    async def recipients_of_parent(self, parent_target_id: str) -> list[Recipient]:
        found = self._recipients.find({"parent_target_id": parent_target_id})
        return [_recipient_of(d) for d in await found.to_list()]

    async def recipients_of_targets(self, target_ids: Sequence[str]) -> list[Recipient]:
        return [
            _recipient_of(d) for d in await find_each(self._recipients, "target_id", target_ids)
        ]

    async def recipients_of_post(self, post_id: str) -> list[Recipient]:
        """Without what was sent (components), which counting does not need."""
        projection = {"components": 0, "name": 0}
        found = self._recipients.find({"post_id": post_id}, projection)
        return [_recipient_of(d) for d in await found.to_list()]

    async def recipients_page(self, post_id: str, after: str | None, limit: int) -> list[Recipient]:
        query: Document = {"post_id": post_id}
        if after is not None:
            query["_id"] = {"$gt": after}
        found = self._recipients.find(query).sort("_id", ASCENDING).limit(limit)
        return [_recipient_of(d) for d in await found.to_list()]

    async def get_recipient(self, key: str) -> Recipient | None:
        doc = await self._recipients.find_one({"_id": key})
        return None if doc is None else _recipient_of(doc)

    async def add_facts(self, facts: Sequence[RecordedFact]) -> set[int]:
        return await insert_ignoring_duplicates(self._facts, [_fact_document(f) for f in facts])

    async def facts_for(self, keys: Sequence[str]) -> list[Fact]:
        return [_fact_of(d) for d in await find_each(self._facts, "key", keys)]

    async def facts_of_post(self, post_id: str) -> list[Fact]:
        projection = {"key": 1, "kind": 1, "status": 1, "epoch": 1, "at": 1}
        found = self._facts.find({"post_id": post_id}, projection)
        return [_fact_of(d) for d in await found.to_list()]


def _recipient_document(recipient: Recipient) -> Document:
    doc: Document = {
        "_id": recipient.key,
        "post_id": recipient.post_id,
        "business_id": recipient.business_id,
        "parent_target_id": recipient.parent_target_id,
        "target_id": recipient.target_id,
        "recipient_id": recipient.recipient_id,
        "contact_id": recipient.contact_id,
        "to": recipient.to,
        "batch": recipient.batch,
        "state": recipient.state,
        "created_at": recipient.created_at,
    }
    if recipient.contact_id is not None:
        # Planned from a contact of an audience: what it is sent, or why it is skipped.
        doc["name"] = recipient.name
        doc["components"] = recipient.components
        doc["error"] = recipient.error
        doc["epoch"] = recipient.epoch
    return doc


def _recipient_of(doc: Document) -> Recipient:
    return Recipient(
        parent_target_id=doc["parent_target_id"],
        recipient_id=doc["recipient_id"],
        post_id=doc["post_id"],
        business_id=doc["business_id"],
        target_id=doc.get("target_id"),
        contact_id=doc.get("contact_id"),
        to=doc["to"],
        batch=doc.get("batch"),
        state=doc["state"],
        created_at=doc["created_at"],
        name=doc.get("name"),
        components=doc.get("components"),
        error=doc.get("error"),
        epoch=doc.get("epoch"),
    )


def _fact_document(recorded: RecordedFact) -> Document:
    fact = recorded.fact
    return {
        "key": fact.key,
        "post_id": recorded.post_id,
        "business_id": recorded.business_id,
        "target_id": recorded.target_id,
        "recipient_id": recorded.recipient_id,
        "_id": fact.id,
        "kind": fact.kind,
        "status": fact.status,
        "epoch": fact.epoch,
        "message_id": fact.message_id,
        "error": fact.error,
        "at": fact.at,
        "recorded_at": recorded.recorded_at,
    }


def _fact_of(doc: Document) -> Fact:
    return Fact(
        key=doc["key"],
        kind=doc["kind"],
        status=doc["status"],
        at=doc["at"],
        epoch=doc.get("epoch"),
        message_id=doc.get("message_id"),
        error=doc.get("error"),
    )
