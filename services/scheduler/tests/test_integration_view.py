"""The integrations view on the real store: what this process just read or wrote serves the
dispatcher's next claim, for a short while only; events write through."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.events import IntegrationStatus
from herald.mongo import Document
from herald.topics import Platform
from scheduler.adapters.integrations import MongoIntegrations, business_offset
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


def _of(integration_id: str, business_id: str) -> IntegrationInfo:
    return IntegrationInfo(integration_id, business_id, Platform.FACEBOOK, ACTIVE)


async def test_a_business_s_integrations_take_consecutive_lanes_once(
    mongo_db: AsyncDatabase[Document],
) -> None:
    """ADR 0025: from the business's offset, one more per integration first stored; a later
    status keeps the lane, and another process reads the same lanes from the store."""
    view = MongoIntegrations(mongo_db)
    now = datetime.now(UTC)
    for n in range(3):
        await view.observe(_of(f"page-{n}", "biz-lanes"), now)
    await view.observe(_of("other-page", "biz-other"), now)
    start = business_offset("biz-lanes")
    expected = {f"page-{n}": start + n for n in range(3)}
    assert await view.lanes([*expected, "unknown"]) == expected
    assert await view.lanes(["other-page"]) == {"other-page": business_offset("biz-other")}

    later = IntegrationInfo("page-1", "biz-lanes", Platform.FACEBOOK, EXPIRED)
    assert await view.observe(later, now + timedelta(seconds=1))
    elsewhere = MongoIntegrations(mongo_db)  # another replica, nothing held
    assert await elsewhere.lanes(expected) == expected
    assert await elsewhere.statuses(["page-1"]) == {"page-1": EXPIRED}


async def test_an_integration_stored_before_lanes_gets_one_at_its_next_change(
    mongo_db: AsyncDatabase[Document],
) -> None:
    now = datetime.now(UTC)
    await mongo_db["integrations"].insert_one(
        {
            "_id": "old-page",
            "business_id": "biz-old",
            "platform": "facebook",
            "status": "active",
            "occurred_at": now,
        }
    )
    view = MongoIntegrations(mongo_db)
    assert await view.lanes(["old-page"]) == {}  # placed by its key's hash meanwhile
    assert await view.observe(_of("old-page", "biz-old"), now + timedelta(seconds=1))
    assert await MongoIntegrations(mongo_db).lanes(["old-page"]) == {
        "old-page": business_offset("biz-old")
    }


async def test_two_first_sightings_at_once_both_succeed(mongo_db: AsyncDatabase[Document]) -> None:
    """Two submissions naming a new integration at once both upsert it; on FerretDB the later
    upsert's insert meets the first one's document (a duplicate key). Played here in order: the
    competitor's document appears between this upsert's read and its insert."""
    view = MongoIntegrations(mongo_db)
    collection = mongo_db["integrations"]

    class Racing:
        def __getattr__(self, name: str) -> object:
            return getattr(collection, name)

        async def update_one(
            self, query: Document, change: Document, upsert: bool = False
        ) -> object:
            if upsert:
                competitor = {"_id": query["_id"], **change["$set"], "status": "expired"}
                await collection.insert_one(competitor)
                raise DuplicateKeyError("E11000 duplicate key error collection: integrations")
            return await collection.update_one(query, change)

    view._view = Racing()  # type: ignore[assignment]
    assert await view.observe(_info(ACTIVE), datetime.now(UTC))

    stored = await collection.find_one({"_id": "fb-1"})
    assert stored is not None
    assert stored["status"] == "active"  # this sighting's, written over the competitor's
