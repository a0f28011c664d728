"""The account insights job's documents in the publisher's own database (docs/adr/0020).

- `insights_accounts`: one document per integration of this platform, `_id` the integration id,
  as `integration.events` last told it (`status`, `occurred_at`); an older event than the one
  kept changes nothing, so events may arrive twice or out of order.
- `account_insights`: one document per account and UTC day, `_id` `<integration>:<day>`:
  `collecting` while a job holds it, then `collected` (with the metrics), `retry` (`until`) or
  `failed`. The first claim is an insert into the unique `_id`, as for post snapshots
  (herald.insights.snapshots); a claim on an existing one only once its lease or retry time is
  over.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.errors import PlatformError
from herald.insights.accounts import Account, AccountDay
from herald.mongo import Document

ACCOUNTS = "insights_accounts"
ACCOUNT_INSIGHTS = "account_insights"
READABLE = ("active", "expiring")  # IntegrationStatus values whose accounts are read
_CLAIM = timedelta(minutes=5)


class MongoAccounts:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._accounts = db[ACCOUNTS]
        self._days = db[ACCOUNT_INSIGHTS]

    async def ensure_indexes(self) -> None:
        await self._accounts.create_index([("platform", 1), ("status", 1)])
        await self._days.create_index([("integration_id", 1), ("day", 1)])

    async def observed(self, account: Account, status: str, occurred_at: datetime) -> bool:
        """Keep what an integration event says unless a later one was kept; True if kept (two
        replicas may race; integration events of one integration share a partition, so one
        consumer sees them in order)."""
        fields = {
            "business_id": account.business_id,
            "platform": account.platform,
            "account_id": account.account_id,
            "status": status,
            "occurred_at": occurred_at,
        }
        known = await self._accounts.find_one({"_id": account.integration_id})
        if known is not None and _aware(known["occurred_at"]) > occurred_at:
            return False
        await self._accounts.update_one(
            {"_id": account.integration_id}, {"$set": fields}, upsert=True
        )
        return True

    async def connected(self, platform: str, limit: int) -> list[Account]:
        query = {"platform": platform, "status": {"$in": list(READABLE)}}
        cursor = self._accounts.find(query).sort("_id", 1).limit(limit)
        return [
            Account(
                integration_id=doc["_id"],
                business_id=doc["business_id"],
                platform=doc["platform"],
                account_id=doc["account_id"],
            )
            async for doc in cursor
        ]

    async def claim(self, key: str, account: Account, day: date, now: datetime) -> bool:
        doc: Document = {
            "_id": key,
            "integration_id": account.integration_id,
            "day": day.isoformat(),
            "state": "collecting",
            "until": now + _CLAIM,
            "attempts": 0,
        }
        try:
            await self._days.insert_one(doc)
        except DuplicateKeyError:
            existing = await self._days.find_one({"_id": key})
            if existing is None or existing["state"] in ("collected", "failed"):
                return False
            if _aware(existing["until"]) > now:
                return False
            changes = {"state": "collecting", "until": now + _CLAIM}
            await self._days.update_one({"_id": key}, {"$set": changes})
        return True

    async def collected(self, snapshot: AccountDay) -> None:
        changes = {
            "state": "collected",
            "collected_at": snapshot.collected_at,
            "metrics": snapshot.metrics,
        }
        await self._days.update_one({"_id": snapshot.key}, {"$set": changes})

    async def attempts(self, key: str) -> int:
        existing = await self._days.find_one({"_id": key}) or {}
        return int(existing.get("attempts", 0))

    async def failed(
        self, key: str, error: PlatformError, next_at: datetime | None, max_attempts: int
    ) -> None:
        attempts = await self.attempts(key) + 1
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
        await self._days.update_one({"_id": key}, {"$set": changes})


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
