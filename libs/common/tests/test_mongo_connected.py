"""PyMongo's async client on FerretDB: the operations Herald's stores are built from."""

from __future__ import annotations

import uuid

import pytest
from prometheus_client import CollectorRegistry
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.mongo import Document, new_mongo_client
from herald.settings import MongoSettings
from herald_localstack.pytest_plugin import InfraEndpoints

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


async def test_command_metrics_name_collection_and_command(infra: InfraEndpoints) -> None:
    registry = CollectorRegistry()
    client = new_mongo_client(MongoSettings(uri=infra.mongo_uri), app_name="t", registry=registry)
    db_name = f"t{uuid.uuid4().hex[:12]}"
    try:
        posts = client[db_name]["posts"]
        await posts.insert_one({"_id": "p1"})
        assert await posts.find_one({"_id": "p1"}) == {"_id": "p1"}
        await posts.update_one({"_id": "p1"}, {"$set": {"x": 1}})
        with pytest.raises(DuplicateKeyError):
            await posts.insert_one({"_id": "p1"})
    finally:
        await client.drop_database(db_name)
        await client.close()

    def count(command: str, metric: str = "herald_mongo_command_seconds_count") -> float | None:
        labels = {"database": db_name, "collection": "posts", "command": command}
        return registry.get_sample_value(metric, labels)

    assert count("insert") == 2  # a duplicate key is a write error in a successful reply
    assert count("find") == 1
    assert count("update") == 1
    assert count("insert", "herald_mongo_command_failures_total") is None
