"""Concurrent inserts into one collection share commands; each caller hears only of its own
documents: duplicates by index, a refused document as an error, a failed command as an error."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, PyMongoError

from herald.batching import InsertBatcher
from herald.mongo import Document


class FakeCollection:
    """Records each `insert_many`; `taken` ids are duplicates; `refuse` ids fail otherwise."""

    def __init__(self, *, taken: set[str] | None = None, refuse: set[str] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.stored: list[str] = []
        self.taken = set(taken or ())
        self.refuse = set(refuse or ())
        self.gate = asyncio.Event()
        self.broken = False

    async def insert_many(self, docs: list[Document], *, ordered: bool) -> None:
        assert ordered is False
        self.calls.append([d["_id"] for d in docs])
        await self.gate.wait()
        if self.broken:
            msg = "connection closed"
            raise PyMongoError(msg)
        errors: list[dict[str, Any]] = []
        for index, doc in enumerate(docs):
            if doc["_id"] in self.taken:
                errors.append({"index": index, "code": 11000, "errmsg": "dup"})
            elif doc["_id"] in self.refuse:
                errors.append({"index": index, "code": 121, "errmsg": "invalid"})
            else:
                self.taken.add(doc["_id"])
                self.stored.append(doc["_id"])
        if errors:
            raise BulkWriteError({"writeErrors": errors, "writeConcernErrors": []})


def _batcher(fake: FakeCollection) -> InsertBatcher:
    return InsertBatcher(fake)  # type: ignore[arg-type]  # a fake with the one method used


@pytest.mark.unit
async def test_inserts_meeting_in_flight_share_one_command() -> None:
    fake = FakeCollection(taken={"b2"})
    batcher = _batcher(fake)
    first = asyncio.create_task(batcher.insert_one({"_id": "a"}))
    await asyncio.sleep(0)  # the first command is in flight
    later = [
        asyncio.create_task(batcher.insert_many([{"_id": "b1"}, {"_id": "b2"}])),
        asyncio.create_task(batcher.insert_one({"_id": "c"})),
    ]
    await asyncio.sleep(0)
    assert not any(t.done() for t in [first, *later])
    fake.gate.set()

    assert await first is True
    assert await later[0] == {1}  # its second document was a duplicate
    assert await later[1] is True
    assert fake.calls == [["a"], ["b1", "b2", "c"]]
    assert fake.stored == ["a", "b1", "c"]


@pytest.mark.unit
async def test_a_refused_document_fails_only_its_caller() -> None:
    fake = FakeCollection(refuse={"bad"})
    fake.gate.set()
    batcher = _batcher(fake)
    blocker = asyncio.create_task(batcher.insert_one({"_id": "x"}))
    results = await asyncio.gather(
        batcher.insert_one({"_id": "bad"}),
        batcher.insert_one({"_id": "good"}),
        return_exceptions=True,
    )
    await blocker
    assert isinstance(results[0], BulkWriteError)
    assert results[1] is True
    assert "good" in fake.stored


@pytest.mark.unit
async def test_a_failed_command_reaches_every_caller_in_it() -> None:
    fake = FakeCollection()
    fake.broken = True
    fake.gate.set()
    batcher = _batcher(fake)
    results = await asyncio.gather(
        batcher.insert_one({"_id": "a"}), batcher.insert_one({"_id": "b"}), return_exceptions=True
    )
    assert all(isinstance(r, PyMongoError) for r in results)


@pytest.mark.connected
async def test_on_the_real_store_every_document_lands_once(
    mongo_db: AsyncDatabase[Document],
) -> None:
    batcher = InsertBatcher(mongo_db["leases"])
    await mongo_db["leases"].insert_one({"_id": "held"})
    wanted = [f"t{i % 40}" for i in range(120)] + ["held"]  # each id asked for three times
    outcomes = await asyncio.gather(*(batcher.insert_one({"_id": i}) for i in wanted))
    won = [i for i, ok in zip(wanted, outcomes, strict=True) if ok]
    assert sorted(won) == sorted(f"t{i}" for i in range(40))  # exactly one winner per id
    assert await mongo_db["leases"].count_documents({}) == 41
