"""Account days in the scheduler's database (docs/adr/0020-analytics-read-model.md).

`account_insights` holds one document per `(integration_id, day)`, `_id`
`<integration_id>:<day>`, the identity the publishers' account job gives a day: the first event
told of a day is kept, a repeat is a duplicate by the unique `_id`, found without reading first.
A day the platform would not give is kept with its code and message (`unavailable`) and no
figures. Reads are a range on the declared `(integration_id, day)` index, checked against the
business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.events import AccountInsightsCollected, AccountInsightsUnavailable
from herald.mongo import Document
from herald.topics import Platform

ACCOUNT_DAYS = "account_insights"
AccountEvent = AccountInsightsCollected | AccountInsightsUnavailable


@dataclass(frozen=True)
class StoredDay:
    integration_id: str
    platform: Platform
    account_id: str
    day: date
    collected_at: datetime
    metrics: dict[str, float]
    unavailable: dict[str, str | None] | None = None


class MongoAccountDays:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._days = db[ACCOUNT_DAYS]

    async def ensure_indexes(self) -> None:
        await self._days.create_index([("integration_id", ASCENDING), ("day", ASCENDING)])

    async def record(self, event: AccountEvent, *, event_id: str, received_at: datetime) -> bool:
        """Store a day, or the platform's refusal of it; False when that day is stored already."""
        doc: Document = {
            "_id": f"{event.integration_id}:{event.day.isoformat()}",
            "integration_id": event.integration_id,
            "business_id": event.business_id,
            "platform": event.platform.value,
            "account_id": event.account_id,
            "day": event.day.isoformat(),
            "event_id": event_id,
            "received_at": received_at,
        }
        if isinstance(event, AccountInsightsCollected):
            doc |= {"collected_at": event.collected_at, "metrics": event.metrics}
        else:
            refusal = {"code": event.error.code, "message": event.error.message}
            doc |= {"collected_at": event.failed_at, "metrics": {}, "unavailable": refusal}
        try:
            await self._days.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def between(
        self, business_id: str, integration_id: str, start: date, end: date
    ) -> list[StoredDay]:
        """The integration's days in `[start, end)`, oldest first (the business's only)."""
        query = {
            "integration_id": integration_id,
            "day": {"$gte": start.isoformat(), "$lt": end.isoformat()},
        }
        cursor = self._days.find(query).sort("day", ASCENDING)
        return [
            StoredDay(
                integration_id=doc["integration_id"],
                platform=Platform(doc["platform"]),
                account_id=doc["account_id"],
                day=date.fromisoformat(doc["day"]),
                collected_at=doc["collected_at"],
                metrics={k: float(v) for k, v in doc.get("metrics", {}).items()},
                unavailable=doc.get("unavailable"),
            )
            async for doc in cursor
            if doc.get("business_id") == business_id
        ]
