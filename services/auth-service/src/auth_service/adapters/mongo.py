"""MongoDB repositories of auth-service, correct on MongoDB and on FerretDB (docs/architecture.md,
"Store rules").

Exclusivity comes only from inserts into unique indexes (a used state, a used code, a refresh
lock, one integration per business and account); no transactions, no TTL indexes (the refresh
loop runs `cleanup`), no `findAndModify`, aggregations limited to `$group` with `$sum`.

Collections: businesses, api_keys, integrations, oauth_states, oauth_state_uses,
oauth_code_uses, oauth_browsers, refresh_locks, webhook_deliveries, deletion_requests,
integration_usage, api_key_usage.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from auth_service.adapters.codec import (
    business_doc,
    business_from,
    integration_doc,
    integration_from,
    key_doc,
    key_from,
)
from auth_service.adapters.mongo_people import PEOPLE_INDEXES
from auth_service.domain import (
    ApiKeyRecord,
    AuthServer,
    Business,
    Integration,
    RefreshMode,
    SecretField,
)
from auth_service.ports import DuplicateAccount, OutboxEntry
from herald.events import IntegrationStatus
from herald.mongo import Document
from herald.topics import Platform

Db = AsyncDatabase[Document]

INDEXES: dict[str, list[IndexModel]] = {
    "api_keys": [IndexModel([("business_id", ASCENDING)], name="business")],
    "integrations": [
        IndexModel(
            [("business_id", ASCENDING), ("platform", ASCENDING), ("account_id", ASCENDING)],
            name="business_account",
            unique=True,
        ),
        IndexModel([("status", ASCENDING), ("mode", ASCENDING)], name="status_mode"),
        IndexModel([("provider_user_id", ASCENDING)], name="provider_user"),
        IndexModel([("platform", ASCENDING), ("account_id", ASCENDING)], name="account"),
    ],
    "oauth_states": [IndexModel([("expires_at", ASCENDING)], name="expires")],
    "oauth_state_uses": [IndexModel([("at", ASCENDING)], name="at")],
    "oauth_code_uses": [IndexModel([("at", ASCENDING)], name="at")],
    "oauth_browsers": [IndexModel([("at", ASCENDING)], name="at")],
    "refresh_locks": [IndexModel([("lease_until", ASCENDING)], name="lease")],
    "webhook_deliveries": [IndexModel([("at", ASCENDING)], name="at")],
    "event_outbox": [IndexModel([("created_at", ASCENDING)], name="created")],
}


async def ensure_indexes(db: Db) -> None:
    """Create the indexes (idempotent). One `createIndexes` per index: FerretDB drops the
    connection when one command re-creates several indexes that already exist."""
    for collection, indexes in (INDEXES | PEOPLE_INDEXES).items():
        for index in indexes:
            await db[collection].create_indexes([index])


class MongoBusinesses:
    def __init__(self, db: Db) -> None:
        self._c = db["businesses"]

    async def insert(self, business: Business) -> None:
        await self._c.insert_one(business_doc(business))

    async def get(self, business_id: str) -> Business | None:
        doc = await self._c.find_one({"_id": business_id})
        return business_from(doc) if doc else None

    async def all(self) -> list[Business]:
        return [business_from(d) async for d in self._c.find({}).sort("created_at", ASCENDING)]

    async def set_timezone(self, business_id: str, timezone: str) -> Business | None:
        await self._c.update_one({"_id": business_id}, {"$set": {"timezone": timezone}})
        return await self.get(business_id)


class MongoApiKeys:
    """Last use is kept apart (`api_key_usage`): on FerretDB two updates of one document lose
    each other's fields, and a use must never undo a revocation."""

    def __init__(self, db: Db) -> None:
        self._c = db["api_keys"]
        self._usage = db["api_key_usage"]

    async def insert(self, key: ApiKeyRecord) -> None:
        await self._c.insert_one(key_doc(key))

    async def get(self, key_id: str) -> ApiKeyRecord | None:
        doc = await self._c.find_one({"_id": key_id})
        return (await self._used([doc]))[0] if doc else None

    async def for_business(self, business_id: str) -> list[ApiKeyRecord]:
        cursor = self._c.find({"business_id": business_id}).sort("created_at", ASCENDING)
        return await self._used([d async for d in cursor])

    async def _used(self, docs: list[Document]) -> list[ApiKeyRecord]:
        used = await _last_used(self._usage, [d["_id"] for d in docs])
        return [key_from(d | {"last_used_at": used.get(d["_id"])}) for d in docs]

    async def revoke(self, key_id: str, at: datetime) -> bool:
        result = await self._c.update_one(
            {"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": at}}
        )
        return result.modified_count == 1

    async def touch(self, key_id: str, at: datetime) -> None:
        await _touch(self._usage, key_id, at)


async def _touch(usage: AsyncCollection[Document], key: str, at: datetime) -> None:
    """Record a use in a document of its own (concurrent touches may lose each other: the
    time is approximate by design)."""
    try:
        await usage.replace_one({"_id": key}, {"at": at}, upsert=True)
    except DuplicateKeyError:
        await usage.replace_one({"_id": key}, {"at": at})


async def _last_used(usage: AsyncCollection[Document], ids: list[Any]) -> dict[Any, datetime]:
    """One `_id` equality per document, a few at a time: the local store serves an equality from
    an index but reads the whole collection for `$in` (ADR 0010); this is on every token read
    and key check. On MongoDB both are index lookups."""
    limit = asyncio.Semaphore(16)

    async def one(key: Any) -> Document | None:
        async with limit:
            return await usage.find_one({"_id": key})

    found = await asyncio.gather(*(one(i) for i in dict.fromkeys(ids)))
    return {d["_id"]: d["at"] for d in found if d is not None}


class MongoIntegrations:
    """Every write of an integration document happens under its lock (see handlers): FerretDB
    applies concurrent updates of one document as whole-document writes that lose each
    other's changes. Last use, written without the lock, lives in `integration_usage`."""

    def __init__(self, db: Db) -> None:
        self._c = db["integrations"]
        self._usage = db["integration_usage"]

    async def _merged(self, docs: list[Document]) -> list[Integration]:
        used = await _last_used(self._usage, [d["_id"] for d in docs])
        return [integration_from(d | {"last_used_at": used.get(d["_id"])}) for d in docs]

    async def get(self, integration_id: str) -> Integration | None:
        doc = await self._c.find_one({"_id": integration_id})
        return (await self._merged([doc]))[0] if doc else None

    async def for_business(
        self, business_id: str, platform: Platform | None = None
    ) -> list[Integration]:
        query: Document = {"business_id": business_id}
        if platform is not None:
            query["platform"] = platform.value
        cursor = self._c.find(query).sort([("connected_at", ASCENDING), ("_id", ASCENDING)])
        return await self._merged([d async for d in cursor])

    async def find_account(
        self, business_id: str, platform: Platform, account_id: str
    ) -> Integration | None:
        query = {"business_id": business_id, "platform": platform.value, "account_id": account_id}
        doc = await self._c.find_one(query)
        return (await self._merged([doc]))[0] if doc else None

    async def insert(self, integration: Integration) -> None:
        try:
            await self._c.insert_one(integration_doc(integration))
        except DuplicateKeyError as exc:
            raise DuplicateAccount(integration.account_id) from exc

    async def replace(self, integration: Integration, *, expected_version: int) -> bool:
        doc = integration_doc(integration)
        doc["version"] = expected_version + 1
        result = await self._c.replace_one(
            {"_id": integration.id, "version": expected_version}, doc
        )
        return result.matched_count == 1

    async def touch(self, integration_id: str, at: datetime) -> None:
        await _touch(self._usage, integration_id, at)

    async def due(
        self,
        mode: RefreshMode,
        *,
        now: datetime,
        expires_before: datetime | None,
        checked_before: datetime | None,
        limit: int,
    ) -> list[Integration]:
        reasons: list[Document] = []
        if expires_before is not None:
            reasons += [
                {"expires_at": {"$lte": expires_before}},
                {"user_expires_at": {"$lte": expires_before}},
            ]
        if checked_before is not None:
            reasons.append({"last_checked_at": {"$lte": checked_before}})
        if not reasons:
            return []
        query = {
            "status": IntegrationStatus.ACTIVE.value,
            "mode": mode.value,
            "$and": [
                {"$or": reasons},
                {"$or": [{"next_attempt_at": None}, {"next_attempt_at": {"$lte": now}}]},
            ],
        }
        cursor = self._c.find(query).sort("_id", ASCENDING).limit(limit)
        return [integration_from(d) async for d in cursor]

    async def of_provider_user(
        self, auth_server: AuthServer, provider_user_id: str
    ) -> list[Integration]:
        query = {"auth_server": auth_server.value, "provider_user_id": provider_user_id}
        return [integration_from(d) async for d in self._c.find(query)]

    async def of_account(self, platform: Platform, account_id: str) -> list[Integration]:
        query = {"platform": platform.value, "account_id": account_id}
        return [integration_from(d) async for d in self._c.find(query)]

    async def ids_not_under(self, kid: str, limit: int) -> list[str]:
        query = {
            "$or": [{f"secrets.{f.value}.kid": {"$exists": True, "$ne": kid}} for f in SecretField]
        }
        cursor = self._c.find(query, {"_id": 1}).sort("_id", ASCENDING).limit(limit)
        return [str(d["_id"]) async for d in cursor]

    async def all_ids(self) -> list[str]:
        return [str(d["_id"]) async for d in self._c.find({}, {"_id": 1})]

    async def count_by_status(self) -> dict[tuple[str, str], int]:
        pipeline: list[Document] = [
            {"$group": {"_id": {"p": "$platform", "s": "$status"}, "n": {"$sum": 1}}}
        ]
        cursor = await self._c.aggregate(pipeline)
        return {(d["_id"]["p"], d["_id"]["s"]): int(d["n"]) async for d in cursor}

    async def count_by_kid(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for field in SecretField:
            path = f"secrets.{field.value}.kid"
            pipeline: list[Document] = [
                {"$match": {path: {"$exists": True}}},
                {"$group": {"_id": f"${path}", "n": {"$sum": 1}}},
            ]
            async for doc in await self._c.aggregate(pipeline):
                counts[str(doc["_id"])] = counts.get(str(doc["_id"]), 0) + int(doc["n"])
        return counts


class MongoOutbox:
    """`event_outbox`: one insert per event, one delete once produced (insert-only, no updates)."""

    def __init__(self, db: Db) -> None:
        self._c = db["event_outbox"]

    async def add(self, entry: OutboxEntry) -> None:
        await self._c.insert_one(
            {
                "_id": entry.id,
                "event_type": entry.event_type,
                "topic": entry.topic,
                "key": entry.key,
                "payload": entry.payload,
                "created_at": entry.created_at,
            }
        )

    async def remove(self, entry_id: str) -> None:
        await self._c.delete_one({"_id": entry_id})

    async def due(self, before: datetime, limit: int) -> list[OutboxEntry]:
        cursor = self._c.find({"created_at": {"$lte": before}}).sort("created_at", ASCENDING)
        return [
            OutboxEntry(
                id=str(doc["_id"]),
                event_type=str(doc["event_type"]),
                topic=str(doc["topic"]),
                key=str(doc["key"]),
                payload=dict(doc["payload"]),
                created_at=doc["created_at"],
            )
            async for doc in cursor.limit(limit)
        ]

    async def count(self) -> int:
        return await self._c.count_documents({})
