"""Audiences, their contacts and the business's suppressed numbers in MongoDB.

A phone number is in an audience at most once: a unique index on (audience_id, phone) decides,
so two imports racing over one number import it once, on MongoDB and FerretDB alike
(architecture §7). Suppressions (opted out, undeliverable) are per business and number, one
document per reason under a deterministic `_id`, inserted and never updated.
"""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.mongo import Document
from scheduler.adapters.posts import insert_ignoring_duplicates
from scheduler.ports import Doc

DELETE_CHUNK = 500


class MongoAudiences:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._audiences = db["audiences"]
        self._contacts = db["contacts"]
        self._suppressions = db["suppressions"]

    async def ensure_indexes(self) -> None:
        await self._audiences.create_index(
            [("business_id", ASCENDING), ("_id", ASCENDING)], name="by_business"
        )
        await self._contacts.create_index(
            [("audience_id", ASCENDING), ("phone", ASCENDING)], unique=True, name="phone"
        )
        await self._suppressions.create_index(
            [("business_id", ASCENDING), ("phone", ASCENDING)], name="by_phone"
        )

    async def insert_audience(self, audience: Doc) -> None:
        await self._audiences.insert_one(audience)

    async def get_audience(self, business_id: str, audience_id: str) -> Doc | None:
        return await self._audiences.find_one({"_id": audience_id, "business_id": business_id})

    async def list_audiences(self, business_id: str, after: str | None, limit: int) -> list[Doc]:
        query: Doc = {"business_id": business_id}
        if after is not None:
            query["_id"] = {"$gt": after}
        return await self._audiences.find(query).sort("_id", ASCENDING).limit(limit).to_list()

    async def delete_audience(self, audience_id: str) -> None:
        # Contacts first: an audience left without contacts after a crash is still deletable.
        await self._contacts.delete_many({"audience_id": audience_id})
        await self._audiences.delete_one({"_id": audience_id})

    async def count_contacts(self, audience_ids: Sequence[str]) -> dict[str, int]:
        if not audience_ids:
            return {}
        pipeline: list[Doc] = [
            {"$match": {"audience_id": {"$in": list(audience_ids)}}},
            {"$group": {"_id": "$audience_id", "n": {"$sum": 1}}},
        ]
        cursor = await self._contacts.aggregate(pipeline)
        return {str(d["_id"]): int(d["n"]) async for d in cursor}

    async def insert_contacts(self, contacts: Sequence[Doc]) -> set[int]:
        return await insert_ignoring_duplicates(self._contacts, contacts)

    async def contacts_page(self, audience_id: str, after: str | None, limit: int) -> list[Doc]:
        query: Doc = {"audience_id": audience_id}
        if after is not None:
            query["phone"] = {"$gt": after}
        return await self._contacts.find(query).sort("phone", ASCENDING).limit(limit).to_list()

    async def contacts_of(self, audience_id: str) -> list[Doc]:
        return await self._contacts.find({"audience_id": audience_id}).to_list()

    async def get_contact(self, audience_id: str, contact_id: str) -> Doc | None:
        return await self._contacts.find_one({"_id": contact_id, "audience_id": audience_id})

    async def delete_contact(self, contact_id: str) -> None:
        await self._contacts.delete_one({"_id": contact_id})

    async def add_suppression(self, suppression: Doc) -> bool:
        try:
            await self._suppressions.insert_one(suppression)
        except DuplicateKeyError:
            return False
        return True

    async def flags(self, business_id: str, phones: Sequence[str] | None) -> dict[str, set[str]]:
        query: Doc = {"business_id": business_id}
        if phones is not None:
            if not phones:
                return {}
            query["phone"] = {"$in": list(phones)}
        found: dict[str, set[str]] = {}
        async for doc in self._suppressions.find(query, {"phone": 1, "reason": 1}):
            found.setdefault(doc["phone"], set()).add(doc["reason"])
        return found
