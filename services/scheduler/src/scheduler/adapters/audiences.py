"""Audiences, their contacts and the business's suppressed numbers in MongoDB.

A phone number is in an audience at most once: a unique index on (audience_id, phone) decides,
so two imports racing over one number import it once, on MongoDB and FerretDB alike (store rules
of docs/architecture.md). Suppressions (opted out, undeliverable) are per business and number, one
document per reason under a deterministic `_id`, inserted and never updated.
"""

from __future__ import annotations

from collections.abc import Sequence

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.mongo import Document
from scheduler.adapters.posts import insert_ignoring_duplicates
from scheduler.contacts import Audience, Contact, Suppression

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

    async def insert_audience(self, audience: Audience) -> None:
        await self._audiences.insert_one(
            {
                "_id": audience.id,
                "business_id": audience.business_id,
                "name": audience.name,
                "description": audience.description,
                "fields": list(audience.fields),
                "created_at": audience.created_at,
            }
        )

    async def get_audience(self, business_id: str, audience_id: str) -> Audience | None:
        doc = await self._audiences.find_one({"_id": audience_id, "business_id": business_id})
        return None if doc is None else _audience_of(doc)

    async def list_audiences(
        self, business_id: str, after: str | None, limit: int
    ) -> list[Audience]:
        query: Document = {"business_id": business_id}
        if after is not None:
            query["_id"] = {"$gt": after}
        found = self._audiences.find(query).sort("_id", ASCENDING).limit(limit)
        return [_audience_of(d) for d in await found.to_list()]

    async def delete_audience(self, audience_id: str) -> None:
        # Contacts first: an audience left without contacts after a crash is still deletable.
        await self._contacts.delete_many({"audience_id": audience_id})
        await self._audiences.delete_one({"_id": audience_id})

    async def count_contacts(
        self, audience_ids: Sequence[str], *, opted_in_only: bool = False
    ) -> dict[str, int]:
        if not audience_ids:
            return {}
        match: Document = {"audience_id": {"$in": list(audience_ids)}}
        if opted_in_only:
            match["opted_in"] = True
        pipeline: list[Document] = [
            {"$match": match},
            {"$group": {"_id": "$audience_id", "n": {"$sum": 1}}},
        ]
        cursor = await self._contacts.aggregate(pipeline)
        return {str(d["_id"]): int(d["n"]) async for d in cursor}

    async def insert_contacts(self, contacts: Sequence[Contact]) -> set[int]:
        docs = [_contact_document(c) for c in contacts]
        return await insert_ignoring_duplicates(self._contacts, docs)

    async def contacts_page(self, audience_id: str, after: str | None, limit: int) -> list[Contact]:
        query: Document = {"audience_id": audience_id}
        if after is not None:
            query["phone"] = {"$gt": after}
        found = self._contacts.find(query).sort("phone", ASCENDING).limit(limit)
        return [_contact_of(d) for d in await found.to_list()]

    async def contacts_of(self, audience_id: str) -> list[Contact]:
        found = self._contacts.find({"audience_id": audience_id})
        return [_contact_of(d) for d in await found.to_list()]

    async def get_contact(self, audience_id: str, contact_id: str) -> Contact | None:
        doc = await self._contacts.find_one({"_id": contact_id, "audience_id": audience_id})
        return None if doc is None else _contact_of(doc)

    async def delete_contact(self, contact_id: str) -> None:
        await self._contacts.delete_one({"_id": contact_id})

    async def add_suppression(self, suppression: Suppression) -> bool:
        doc = {
            "_id": suppression.id,
            "business_id": suppression.business_id,
            "phone": suppression.phone,
            "reason": suppression.reason,
            "source": suppression.source,
            "at": suppression.at,
            "detail": suppression.detail,
        }
        try:
            await self._suppressions.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def flags(self, business_id: str, phones: Sequence[str] | None) -> dict[str, set[str]]:
        query: Document = {"business_id": business_id}
        if phones is not None:
            if not phones:
                return {}
            query["phone"] = {"$in": list(phones)}
        found: dict[str, set[str]] = {}
        async for doc in self._suppressions.find(query, {"phone": 1, "reason": 1}):
            found.setdefault(doc["phone"], set()).add(doc["reason"])
        return found


def _audience_of(doc: Document) -> Audience:
    return Audience(
        id=doc["_id"],
        business_id=doc["business_id"],
        name=doc["name"],
        description=doc.get("description"),
        fields=tuple(doc.get("fields") or ()),
        created_at=doc["created_at"],
    )


def _contact_document(contact: Contact) -> Document:
    return {
        "_id": contact.id,
        "audience_id": contact.audience_id,
        "business_id": contact.business_id,
        "phone": contact.phone,
        "name": contact.name,
        "opted_in": contact.opted_in,
        "opted_in_at": contact.opted_in_at,
        "fields": contact.fields,
        "source": contact.source,
        "created_at": contact.created_at,
    }


def _contact_of(doc: Document) -> Contact:
    return Contact(
        id=doc["_id"],
        audience_id=doc["audience_id"],
        business_id=doc["business_id"],
        phone=doc["phone"],
        opted_in=bool(doc["opted_in"]),
        source=doc["source"],
        created_at=doc["created_at"],
        name=doc.get("name"),
        opted_in_at=doc.get("opted_in_at"),
        fields=doc.get("fields") or {},
    )
