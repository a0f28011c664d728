"""The publication ledger on FerretDB, whose updates are not atomic: leases by unique inserts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from herald.ledger import EntryState, MongoLedger, Opening
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


async def test_start_leases_and_begins_in_one_go(mongo_db: AsyncDatabase[Document]) -> None:
    """`start` is `acquire` then `begin`: a first handling's lease and entry are inserted
    together; racing starts leave one holder; an entry another inserted is never `fresh`."""
    ledgers = [MongoLedger(mongo_db, owner=f"consumer-{i}") for i in range(4)]
    await ledgers[0].ensure_indexes()
    request = post_requested("t1")
    started = await asyncio.gather(*(ledger.start(request, 1) for ledger in ledgers))
    held = [s for s in started if s is not None]
    assert len(held) == 1
    lease, entry = held[0]
    # Whoever's entry insert won, the holder's entry is the target's only one; it is fresh only
    # if the holder inserted it.
    assert (entry.state, entry.attempt) == (EntryState.IN_PROGRESS, 1)
    assert await mongo_db["ledger"].count_documents({"_id": "t1"}) == 1
    for ledger in ledgers:
        assert await ledger.start(request, 2) is None  # still held
    await ledgers[0].save_checkpoint(lease, "feed_call_started", {"marker": "m"})
    await ledgers[0].release(lease)

    again = await ledgers[1].start(request, 2)  # a redelivery after the holder let go
    assert again is not None
    lease2, resumed = again
    assert lease2.epoch == 3  # release inserted epoch 2, already expired
    assert not resumed.fresh
    assert (resumed.checkpoint_step, resumed.attempt) == ("feed_call_started", 2)
    await ledgers[1].release(lease2)

    alone = await ledgers[2].start(post_requested("t2"), 1)
    assert alone is not None
    assert alone[1].fresh  # nothing else handled t2: its lease and entry went in together


async def test_an_entry_inserted_by_a_contender_is_not_fresh(
    mongo_db: AsyncDatabase[Document],
) -> None:
    """A contender's entry insert can win while its lease insert loses (the two go together):
    the holder then reads an entry it did not create, and treats it as an earlier handling's."""
    holder = MongoLedger(mongo_db, owner="holder")
    request = post_requested("t1")
    lease = await holder.acquire("t1")  # the lease first, as if its entry insert came second
    assert lease is not None
    assert await MongoLedger(mongo_db, owner="other").start(request, 1) is None
    entry = await holder.begin(request, 1)
    assert not entry.fresh
    assert (entry.state, entry.checkpoint) == (EntryState.IN_PROGRESS, {})


async def test_a_failed_entry_insert_releases_the_lease_it_took(
    mongo_db: AsyncDatabase[Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = MongoLedger(mongo_db, owner="a")
    request = post_requested("t1")

    async def refused(doc: Document) -> bool:
        raise RuntimeError("store away")

    monkeypatch.setattr(ledger._entry_inserts, "insert_one", refused)
    with pytest.raises(RuntimeError, match="store away"):
        await ledger.start(request, 1)
    monkeypatch.undo()
    later = await MongoLedger(mongo_db, owner="b").start(request, 1)
    assert later is not None  # not held for the lease's 300 s
    assert later[0].epoch == 3


async def test_a_new_entry_holds_the_adapters_opening_and_no_other_does(
    mongo_db: AsyncDatabase[Document],
) -> None:
    ledger = MongoLedger(mongo_db, owner="a")
    opening = Opening("feed_call_started", {"started_at": 1.5, "marker": "m"})
    started = await ledger.start(post_requested("t1"), 1, opening)
    assert started is not None
    lease, entry = started
    assert entry.fresh
    assert (entry.checkpoint_step, entry.checkpoint) == ("feed_call_started", opening.data)
    stored = await ledger.get("t1")
    assert stored is not None
    assert (stored.checkpoint_step, stored.checkpoint) == ("feed_call_started", opening.data)
    await ledger.save_checkpoint(lease, "video_processing", {"video_id": "v1"})
    await ledger.release(lease)

    later = Opening("feed_call_started", {"started_at": 9.0, "marker": "m"})
    again = await ledger.start(post_requested("t1"), 2, later)
    assert again is not None
    assert not again[1].fresh
    assert (again[1].checkpoint_step, again[1].checkpoint) == (
        "video_processing",
        {"video_id": "v1"},
    )
