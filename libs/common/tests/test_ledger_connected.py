"""The publication ledger on FerretDB, whose updates are not atomic: leases by unique inserts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from herald.ledger import EntryState, MongoLedger
from herald.mongo import Document
from herald.testkit import post_requested

pytestmark = pytest.mark.connected


async def test_racing_consumers_never_both_hold_a_target(mongo_db: AsyncDatabase[Document]) -> None:
    ledgers = [MongoLedger(mongo_db, owner=f"consumer-{i}") for i in range(6)]
    await ledgers[0].ensure_indexes()
    winners_per_round = []
    for round_ in range(25):
        leases = await asyncio.gather(*(ledger.acquire(f"t{round_ % 3}") for ledger in ledgers))
        held = [lease for lease in leases if lease is not None]
        winners_per_round.append(len(held))
        for lease in held:
            await ledgers[0].release(lease)

    assert winners_per_round == [1] * 25


async def test_a_held_lease_excludes_others_until_released(
    mongo_db: AsyncDatabase[Document],
) -> None:
    a, b = MongoLedger(mongo_db, owner="a"), MongoLedger(mongo_db, owner="b")
    lease = await a.acquire("t1")
    assert lease is not None
    assert await b.acquire("t1") is None
    await a.release(lease)
    taken = await b.acquire("t1")
    assert taken is not None
    assert taken.epoch == lease.epoch + 2  # release inserted epoch 2, already expired
    await b.release(taken)
    third = await a.acquire("t1")
    assert third is not None
    await a.release(third)
    # History between the first and the newest epochs is removed; those stay.
    epochs = [d["epoch"] async for d in mongo_db["ledger_leases"].find({"target_id": "t1"})]
    assert sorted(epochs) == [1, 5, 6]
    assert await b.acquire("t1") is not None


async def test_an_expired_lease_of_a_dead_consumer_is_taken_over(
    mongo_db: AsyncDatabase[Document],
) -> None:
    dead = MongoLedger(mongo_db, owner="dead", lease_s=0.2)
    alive = MongoLedger(mongo_db, owner="alive")
    assert await dead.acquire("t1") is not None
    assert await alive.acquire("t1") is None
    await asyncio.sleep(0.3)
    lease = await alive.acquire("t1")
    assert lease is not None
    assert lease.owner == "alive"


async def test_entry_lifecycle_and_redelivery(mongo_db: AsyncDatabase[Document]) -> None:
    ledger = MongoLedger(mongo_db)
    lease = await ledger.acquire("t1")
    assert lease is not None
    request = post_requested("t1")

    entry = await ledger.begin(request, attempt=1)
    assert (entry.state, entry.attempt, entry.checkpoint) == (EntryState.IN_PROGRESS, 1, {})
    assert entry.fresh  # this begin created the entry: no earlier handling began
    await ledger.save_checkpoint(lease, "container_created", {"container_id": "c9"})
    again = await ledger.begin(request, attempt=2)
    assert (again.checkpoint_step, again.checkpoint, again.attempt, again.fresh) == (
        "container_created",
        {"container_id": "c9"},
        2,
        False,
    )

    published_at = datetime.now(UTC).replace(microsecond=0)
    await ledger.complete(lease, {"platform_post_id": "17", "published_at": published_at})
    done = await ledger.begin(request, attempt=3)
    assert done.state is EntryState.PUBLISHED
    assert done.result == {"platform_post_id": "17", "published_at": published_at}
    assert done.attempt == 2  # a finished entry keeps the attempt it finished on

    await ledger.fail(lease, {"code": "100"})
    reopened = await ledger.reopen(lease, "replay-1")
    assert (reopened.state, reopened.attempt, reopened.replays) == (
        EntryState.IN_PROGRESS,
        1,
        ["replay-1"],
    )
    stored = await ledger.get("t1")
    assert stored is not None
    assert stored.replays == ["replay-1"]
    assert stored.error == {"code": "100"}
