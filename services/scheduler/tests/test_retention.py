"""The scheduler's sweep on the real store: bookkeeping goes after `keep_days`, a post's history
only after `history_keep_days`, and posts and targets stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry
from pymongo.asynchronous.database import AsyncDatabase

from herald.mongo import Document
from scheduler.settings import SchedulerRetentionSettings
from scheduler.workers import retention

pytestmark = pytest.mark.connected


async def test_old_bookkeeping_goes_and_history_and_posts_stay_longer(
    mongo_db: AsyncDatabase[Document],
) -> None:
    now = datetime.now(UTC)

    def days(n: int) -> datetime:
        return now - timedelta(days=n)

    await mongo_db["claims"].insert_many(
        [{"_id": "old", "claimed_at": days(31)}, {"_id": "new", "claimed_at": days(1)}]
    )
    await mongo_db["dispatches"].insert_many(
        [{"_id": "old", "dispatched_at": days(31)}, {"_id": "new", "dispatched_at": days(1)}]
    )
    await mongo_db["rejections"].insert_one({"_id": "old", "rejected_at": days(31)})
    await mongo_db["analytics_refreshes"].insert_many(
        [{"_id": "p-old", "at": days(31)}, {"_id": "p-new", "at": now}]
    )
    await mongo_db["history"].insert_many(
        [{"_id": "year", "at": days(366)}, {"_id": "month", "at": days(31)}]
    )
    await mongo_db["posts"].insert_one({"_id": "p", "created_at": days(400)})
    await mongo_db["targets"].insert_one({"_id": "p-0", "updated_at": days(400)})
    registry = CollectorRegistry()
    sweep = retention(mongo_db, SchedulerRetentionSettings(), registry)

    deleted = await sweep.sweep_once()

    assert deleted == {
        "claims": 1,
        "dispatches": 1,
        "rejections": 1,
        "analytics_refreshes": 1,
        "history": 1,
    }
    assert [d["_id"] async for d in mongo_db["claims"].find({})] == ["new"]
    assert [d["_id"] async for d in mongo_db["dispatches"].find({})] == ["new"]
    assert [d["_id"] async for d in mongo_db["history"].find({})] == ["month"]
    assert [d["_id"] async for d in mongo_db["analytics_refreshes"].find({})] == ["p-new"]
    assert await mongo_db["posts"].count_documents({}) == 1
    assert await mongo_db["targets"].count_documents({}) == 1
    sample = {"collection": "history"}
    assert registry.get_sample_value("herald_retention_deleted_total", sample) == 1


def test_a_retention_under_a_day_is_refused() -> None:
    with pytest.raises(ValueError, match="keep_days"):
        SchedulerRetentionSettings(keep_days=0.5)
