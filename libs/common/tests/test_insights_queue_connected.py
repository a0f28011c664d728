"""The insights job's queue of due posts on FerretDB (herald.insights.snapshots): the ledger
completes an entry into it as "new"; slots are read by equality, the slots a stopped job left
behind by a range; an entry moves between slots or leaves; entries published before the queue
existed join it once; a snapshot's claim tells taken, done and held apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from herald.errors import Transient
from herald.insights import Claim, MongoSnapshots
from herald.ledger import INSIGHTS_DUE, LEDGER, EntryState, MongoLedger
from herald.mongo import Document
from herald.testkit import post_requested

pytestmark = pytest.mark.connected

T0 = datetime(2026, 12, 7, 22, 0, tzinfo=UTC)


async def _published(mongo_db: AsyncDatabase[Document], target: str, post_id: str | None) -> None:
    ledger = MongoLedger(mongo_db)
    lease = await ledger.acquire(target)
    assert lease is not None
    await ledger.begin(post_requested(target), attempt=1)
    await ledger.complete(lease, {"platform_post_id": post_id, "published_at": T0})


async def test_entries_move_through_the_queue_by_equality_reads(
    mongo_db: AsyncDatabase[Document],
) -> None:
    store = MongoSnapshots(mongo_db)
    await store.ensure_indexes()
    await _published(mongo_db, "t1", "page_1")
    await _published(mongo_db, "t2", None)  # TikTok's id comes later

    new = {e.target_id: e for e in await store.due("new", 10)}
    assert set(new) == {"t1", "t2"}
    assert new["t1"].post is not None
    assert (new["t1"].post.platform_post_id, new["t1"].post.published_at) == ("page_1", T0)
    assert new["t2"].post is None  # nothing to read until its id is known

    await store.reschedule("t1", "2026-12-07T23:00")
    await store.reschedule("t2", None)
    assert await store.due("new", 10) == []
    [moved] = await store.due("2026-12-07T23:00", 10)
    assert (moved.target_id, moved.slot) == ("t1", "2026-12-07T23:00")
    assert await store.overdue("2026-12-07T23:00", 10) == []  # before it: none
    assert [e.target_id for e in await store.overdue("2026-12-07T23:10", 10)] == ["t1"]
    left = await mongo_db[LEDGER].find_one({"_id": "t2"})
    assert left is not None
    assert INSIGHTS_DUE not in left

    indexes = await mongo_db[LEDGER].index_information()
    assert any(spec["key"] == [(INSIGHTS_DUE, 1)] for spec in indexes.values())


async def test_entries_published_before_the_queue_join_it_once(
    mongo_db: AsyncDatabase[Document],
) -> None:
    store = MongoSnapshots(mongo_db)
    await store.ensure_indexes()
    old = {"state": EntryState.PUBLISHED.value, "post_id": "p", "business_id": "b"}
    old |= {"integration_id": "i", "platform": "facebook"}
    await mongo_db[LEDGER].insert_many(
        [
            old | {"_id": "recent", "result": {"platform_post_id": "1", "published_at": T0}},
            old
            | {
                "_id": "long_ago",
                "result": {"platform_post_id": "2", "published_at": T0 - timedelta(days=30)},
            },
            {"_id": "failed", "state": EntryState.FAILED.value, "post_id": "p"},
        ]
    )

    assert await store.backfill(T0 - timedelta(days=9)) == 1
    assert [e.target_id for e in await store.due("new", 10)] == ["recent"]
    await store.reschedule("recent", None)
    assert await store.backfill(T0 - timedelta(days=9)) == 0  # once: the marker says so
    assert await store.due("new", 10) == []


async def test_a_claim_tells_taken_done_and_held_apart(
    mongo_db: AsyncDatabase[Document],
) -> None:
    store = MongoSnapshots(mongo_db)
    await store.ensure_indexes()
    await _published(mongo_db, "t1", "page_1")
    [entry] = await store.due("new", 10)
    assert entry.post is not None

    assert await store.claim("t1:3600", entry.post, 3600, T0) is Claim.TAKEN
    assert await store.claim("t1:3600", entry.post, 3600, T0) is Claim.HELD  # its lease runs
    retry_at = T0 + timedelta(minutes=10)
    await store.failed("t1:3600", Transient("blip"), retry_at, max_attempts=5)
    assert await store.claim("t1:3600", entry.post, 3600, T0 + timedelta(minutes=5)) is Claim.HELD
    assert await store.claim("t1:3600", entry.post, 3600, retry_at) is Claim.TAKEN
    await store.failed("t1:3600", Transient("blip"), None, max_attempts=5)
    assert await store.claim("t1:3600", entry.post, 3600, retry_at) is Claim.DONE
