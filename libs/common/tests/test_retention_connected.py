"""The retention sweep on FerretDB: what outlived the retention goes, what is still needed stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry
from pymongo.asynchronous.database import AsyncDatabase

from herald.ledger import LEASES, LEDGER, EntryState
from herald.mongo import Document
from herald.retention import DAY_S, Retention, Rule

pytestmark = pytest.mark.connected

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=31)
RECENT = NOW - timedelta(days=29)
FINISHED = {"state": {"$in": [EntryState.PUBLISHED.value, EntryState.FAILED.value]}}


async def test_old_finished_entries_and_leases_go_and_the_rest_stays(
    mongo_db: AsyncDatabase[Document],
) -> None:
    await mongo_db[LEDGER].insert_many(
        [
            {"_id": "old-published", "state": "published", "updated_at": OLD},
            {"_id": "old-failed", "state": "failed", "updated_at": OLD},
            {"_id": "old-stuck", "state": "in_progress", "updated_at": OLD},  # for a person
            {"_id": "recent-published", "state": "published", "updated_at": RECENT},
        ]
    )
    await mongo_db[LEASES].insert_many(
        [
            {"_id": "old-published:1", "target_id": "old-published", "expires_at": OLD},
            {"_id": "recent-published:1", "target_id": "recent-published", "expires_at": RECENT},
        ]
    )
    await mongo_db["log"].insert_many(
        [{"_id": "m1", "sent_at": OLD}, {"_id": "m2", "sent_at": RECENT}]
    )
    registry = CollectorRegistry()
    retention = Retention(
        mongo_db,
        [Rule(LEDGER, "updated_at", FINISHED), Rule(LEASES, "expires_at"), Rule("log", "sent_at")],
        keep_s=30 * DAY_S,
        every_s=3600,
        registry=registry,
        clock=lambda: NOW,
    )

    deleted = await retention.sweep_once()
    again = await retention.sweep_once()

    assert deleted == {LEDGER: 2, LEASES: 1, "log": 1}
    assert again == {LEDGER: 0, LEASES: 0, "log": 0}
    left = {d["_id"] async for d in mongo_db[LEDGER].find({})}
    assert left == {"old-stuck", "recent-published"}
    assert [d["_id"] async for d in mongo_db[LEASES].find({})] == ["recent-published:1"]
    assert [d["_id"] async for d in mongo_db["log"].find({})] == ["m2"]
    counted = registry.get_sample_value("herald_retention_deleted_total", {"collection": LEDGER})
    assert counted == 2


async def test_a_rule_may_keep_its_collection_longer(mongo_db: AsyncDatabase[Document]) -> None:
    await mongo_db["history"].insert_many(
        [{"_id": "h-old", "at": NOW - timedelta(days=400)}, {"_id": "h-31", "at": OLD}]
    )
    await mongo_db["claims"].insert_one({"_id": "c-31", "claimed_at": OLD})
    retention = Retention(
        mongo_db,
        [Rule("claims", "claimed_at"), Rule("history", "at", keep_s=365 * DAY_S)],
        keep_s=30 * DAY_S,
        every_s=3600,
        clock=lambda: NOW,
    )

    assert await retention.sweep_once() == {"claims": 1, "history": 1}
    assert [d["_id"] async for d in mongo_db["history"].find({})] == ["h-31"]
