"""Campaigns in MongoDB: one document each, written whole or by `_id`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from herald.mongo import Document
from scheduler.models import Campaign
from scheduler.recurrence import Recurrence


class MongoCampaigns:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._campaigns = db["campaigns"]

    async def ensure_indexes(self) -> None:
        await self._campaigns.create_index(
            [("business_id", ASCENDING), ("created_at", ASCENDING)], name="by_business"
        )

    async def insert(self, campaign: Campaign) -> None:
        await self._campaigns.insert_one(_document(campaign))

    async def get(self, business_id: str, campaign_id: str) -> Campaign | None:
        doc = await self._campaigns.find_one({"_id": campaign_id, "business_id": business_id})
        return None if doc is None else _campaign_of(doc)

    async def for_business(self, business_id: str) -> list[Campaign]:
        cursor = self._campaigns.find({"business_id": business_id}).sort("created_at", ASCENDING)
        return [_campaign_of(d) for d in await cursor.to_list()]

    async def active(self) -> list[Campaign]:
        return [_campaign_of(d) for d in await self._campaigns.find({"status": "active"}).to_list()]

    async def end(self, campaign_id: str) -> None:
        await self._campaigns.update_one({"_id": campaign_id}, {"$set": {"status": "ended"}})

    async def record_pass(
        self, campaign_id: str, *, planned_until: datetime, at: datetime, problems: Sequence[str]
    ) -> None:
        changes = {
            "planned_until": planned_until,
            "last_run_at": at,
            "last_problems": list(problems),
        }
        await self._campaigns.update_one({"_id": campaign_id}, {"$set": changes})


def _document(campaign: Campaign) -> Document:
    recurrence = campaign.recurrence
    return {
        "_id": campaign.id,
        "business_id": campaign.business_id,
        "name": campaign.name,
        "description": campaign.description,
        # The start is a local time without offset, kept as its ISO text.
        "recurrence": None
        if recurrence is None
        else {
            "rule": recurrence.rule,
            "timezone": recurrence.timezone,
            "starts_at": recurrence.starts_at.isoformat(),
        },
        "template": campaign.template,
        "status": campaign.status,
        "planned_until": campaign.planned_until,
        "created_at": campaign.created_at,
        "last_run_at": campaign.last_run_at,
        "last_problems": list(campaign.last_problems),
    }


def _campaign_of(doc: Document) -> Campaign:
    rule = doc.get("recurrence")
    return Campaign(
        id=doc["_id"],
        business_id=doc["business_id"],
        name=doc["name"],
        description=doc.get("description"),
        recurrence=None
        if rule is None
        else Recurrence(rule["rule"], rule["timezone"], datetime.fromisoformat(rule["starts_at"])),
        template=doc.get("template"),
        status=doc["status"],
        created_at=doc["created_at"],
        planned_until=doc.get("planned_until"),
        last_run_at=doc.get("last_run_at"),
        last_problems=tuple(doc.get("last_problems") or ()),
    )
