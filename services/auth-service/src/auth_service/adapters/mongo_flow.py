"""MongoDB repositories for the short-lived records of auth-service: OAuth states and their
use marks, refresh locks, webhook delivery marks, data-deletion requests. Exclusivity only by
unique inserts (docs/architecture.md, "Store rules"); cleanup by the periodic sweep
(handlers/maintenance.py), not TTL indexes."""

from __future__ import annotations

from datetime import datetime, timedelta

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from auth_service.adapters.codec import state_doc, state_from
from auth_service.adapters.mongo import Db
from auth_service.domain import OAuthState
from herald.mongo import Document


class MongoStates:
    def __init__(self, db: Db) -> None:
        self._states = db["oauth_states"]
        self._uses = db["oauth_state_uses"]
        self._codes = db["oauth_code_uses"]
        self._browsers = db["oauth_browsers"]

    async def put(self, state: OAuthState) -> None:
        await self._states.insert_one(state_doc(state))

    async def get(self, state_hash: str) -> OAuthState | None:
        doc = await self._states.find_one({"_id": state_hash})
        return state_from(doc) if doc else None

    async def mark_used(self, state_hash: str, at: datetime) -> bool:
        if not await _first_insert(self._uses, state_hash, at):
            return False
        await self._states.delete_one({"_id": state_hash})
        await self._browsers.delete_one({"_id": state_hash})
        return True

    async def bind(self, state_hash: str, browser_hash: str, at: datetime) -> bool:
        try:
            await self._browsers.insert_one({"_id": state_hash, "browser": browser_hash, "at": at})
        except DuplicateKeyError:
            return False
        return True

    async def binding(self, state_hash: str) -> str | None:
        doc = await self._browsers.find_one({"_id": state_hash})
        return str(doc["browser"]) if doc else None

    async def mark_code_used(self, code_hash: str, at: datetime) -> bool:
        return await _first_insert(self._codes, code_hash, at)

    async def cleanup(self, now: datetime, keep_marks_s: int) -> int:
        removed = (await self._states.delete_many({"expires_at": {"$lt": now}})).deleted_count
        cutoff = now - timedelta(seconds=keep_marks_s)
        for marks in (self._uses, self._codes, self._browsers):
            removed += (await marks.delete_many({"at": {"$lt": cutoff}})).deleted_count
        return removed


async def _first_insert(collection: AsyncCollection[Document], key: str, at: datetime) -> bool:
    try:
        await collection.insert_one({"_id": key, "at": at})
    except DuplicateKeyError:
        return False
    return True


class MongoLocks:
    """Leases by unique insert. An expired lease is taken over by deleting exactly that lease
    (same owner and expiry) and inserting again, so only one contender can win."""

    def __init__(self, db: Db) -> None:
        self._c = db["refresh_locks"]

    async def acquire(self, name: str, owner: str, now: datetime, lease_s: float) -> bool:
        doc = {"_id": name, "owner": owner, "acquired_at": now}
        doc["lease_until"] = now + timedelta(seconds=lease_s)
        for _ in range(2):
            try:
                await self._c.insert_one(dict(doc))
            except DuplicateKeyError:
                held = await self._c.find_one({"_id": name})
                if held is not None and held["lease_until"] > now:
                    return False
                if held is not None:
                    stale = {
                        "_id": name,
                        "owner": held["owner"],
                        "lease_until": held["lease_until"],
                    }
                    await self._c.delete_one(stale)
            else:
                return True
        return False

    async def release(self, name: str, owner: str) -> None:
        await self._c.delete_one({"_id": name, "owner": owner})

    async def holds(self, name: str, owner: str, now: datetime) -> bool:
        doc = await self._c.find_one({"_id": name})
        return doc is not None and doc["owner"] == owner and doc["lease_until"] > now

    async def cleanup(self, now: datetime) -> int:
        stale = now - timedelta(hours=1)
        return (await self._c.delete_many({"lease_until": {"$lt": stale}})).deleted_count


class MongoDeliveries:
    """`webhook_deliveries`: `{_id: <kind>:<sha256>, at}`, one per delivery acted on."""

    def __init__(self, db: Db) -> None:
        self._c = db["webhook_deliveries"]

    async def first(self, key: str, at: datetime) -> bool:
        return await _first_insert(self._c, key, at)

    async def forget(self, key: str) -> None:
        await self._c.delete_one({"_id": key})

    async def cleanup(self, before: datetime) -> int:
        return (await self._c.delete_many({"at": {"$lt": before}})).deleted_count


class MongoDeletions:
    def __init__(self, db: Db) -> None:
        self._c = db["deletion_requests"]

    async def record(
        self, code: str, user_id: str, integration_ids: list[str], at: datetime
    ) -> None:
        doc = {"_id": code, "user_id": user_id, "integration_ids": integration_ids, "at": at}
        await self._c.insert_one(doc | {"status": "completed"})

    async def get(self, code: str) -> dict[str, object] | None:
        return await self._c.find_one({"_id": code})
