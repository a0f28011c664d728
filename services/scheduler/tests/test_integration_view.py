"""The integrations view on the real store: what this process just read or wrote serves the
dispatcher's next claim, for a short while only; events write through."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from herald.events import IntegrationStatus
from herald.mongo import Document
from herald.topics import Platform
from scheduler.adapters.dispatch import MongoIntegrations
from scheduler.ports import IntegrationInfo

pytestmark = pytest.mark.connected

ACTIVE, EXPIRED = IntegrationStatus.ACTIVE, IntegrationStatus.EXPIRED


def _info(status: IntegrationStatus) -> IntegrationInfo:
    return IntegrationInfo("fb-1", "biz-a", Platform.FACEBOOK, status)


async def test_a_status_read_is_reused_briefly(mongo_db: AsyncDatabase[Document]) -> None:
    view = MongoIntegrations(mongo_db, read_memo_s=0.3)
    now = datetime.now(UTC)
    await view.observe(_info(ACTIVE), now)
    # Another replica records the expiry in the store; this one has just seen `active`.
    await mongo_db["integrations"].update_one({"_id": "fb-1"}, {"$set": {"status": "expired"}})
    assert await view.statuses(["fb-1", "unknown"]) == {"fb-1": ACTIVE}
    await asyncio.sleep(0.4)
    assert await view.statuses(["fb-1"]) == {"fb-1": EXPIRED}


async def test_an_event_writes_through(mongo_db: AsyncDatabase[Document]) -> None:
    view = MongoIntegrations(mongo_db)
    now = datetime.now(UTC)
    await view.remember([_info(ACTIVE)], now)
    assert await view.observe(_info(EXPIRED), now + timedelta(seconds=1))
    assert await view.statuses(["fb-1"]) == {"fb-1": EXPIRED}
    stored = await mongo_db["integrations"].find_one({"_id": "fb-1"})
    assert stored is not None
    assert stored["status"] == "expired"
