"""PyMongo's async client on FerretDB: the operations Herald's stores are built from."""

from __future__ import annotations

import pytest
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.mongo import Document

pytestmark = pytest.mark.connected


async def test_insert_find_update(mongo_db: AsyncDatabase[Document]) -> None:
    posts = mongo_db["posts"]
    await posts.insert_one({"_id": "p1", "status": "scheduled", "attempts": 0})

    updated = await posts.find_one_and_update(
        {"_id": "p1", "status": "scheduled"},
        {"$set": {"status": "dispatched"}, "$inc": {"attempts": 1}},
        return_document=ReturnDocument.AFTER,
    )

    assert updated == {"_id": "p1", "status": "dispatched", "attempts": 1}
    assert await posts.find_one({"_id": "p1"}, {"_id": 0, "status": 1}) == {"status": "dispatched"}
    assert [d["_id"] async for d in posts.find({"status": "dispatched"})] == ["p1"]


async def test_unique_index_rejects_a_duplicate(mongo_db: AsyncDatabase[Document]) -> None:
    claims = mongo_db["claims"]
    await claims.create_index([("target_id", ASCENDING), ("attempt", ASCENDING)], unique=True)
    await claims.insert_one({"target_id": "t1", "attempt": 1})

    with pytest.raises(DuplicateKeyError) as caught:
        await claims.insert_one({"target_id": "t1", "attempt": 1})

    assert caught.value.code == 11000
    assert await claims.count_documents({"target_id": "t1"}) == 1
