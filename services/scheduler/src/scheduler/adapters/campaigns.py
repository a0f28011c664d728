"""Campaigns in MongoDB: one document each, written whole or by `_id`."""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from herald.mongo import Document
from scheduler.ports import Doc


class MongoCampaigns:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._campaigns = db["campaigns"]

    async def ensure_indexes(self) -> None:
        await self._campaigns.create_index(
            [("business_id", ASCENDING), ("created_at", ASCENDING)], name="by_business"
        )

    async def insert(self, campaign: Doc) -> None:
        await self._campaigns.insert_one(campaign)

    async def get(self, business_id: str, campaign_id: str) -> Doc | None:
        return await self._campaigns.find_one({"_id": campaign_id, "business_id": business_id})

    async def for_business(self, business_id: str) -> list[Doc]:
        cursor = self._campaigns.find({"business_id": business_id}).sort("created_at", ASCENDING)
        return await cursor.to_list()

    async def active(self) -> list[Doc]:
        return await self._campaigns.find({"status": "active"}).to_list()

    async def update(self, campaign_id: str, changes: Doc) -> None:
        await self._campaigns.update_one({"_id": campaign_id}, {"$set": changes})
