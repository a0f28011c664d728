"""The local store serves equality filters from indexes (ADR 0010).

These tests pin what the GIN trigger relies on in FerretDB v1.24.2 (its `_jsonb` column, the
expressions of the btree indexes it creates, the `@>` shape of its pushed-down filters): an
upgrade of FerretDB that changes any of them fails here instead of silently scanning.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from herald.mongo import Document
from herald_localstack import postgres
from herald_localstack.config import StackConfig
from herald_localstack.pytest_plugin import InfraEndpoints

pytestmark = pytest.mark.connected


@pytest.fixture
def cfg(infra: InfraEndpoints) -> StackConfig:
    cfg = StackConfig.from_env()
    if infra.mongo_uri != cfg.mongo_uri:
        pytest.fail("these tests need the deploy/local store (HERALD_TEST_INFRA=local)")
    return cfg


def _indexes(cfg: StackConfig, schema: str) -> dict[str, str]:
    """index name -> definition, for every index in FerretDB's schema of one database."""
    rows = postgres.psql(
        cfg,
        f"SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '{schema}'",  # noqa: S608
    )
    return dict(line.split("|", 1) for line in rows.splitlines() if line)


def _scans(cfg: StackConfig, schema: str) -> dict[str, int]:
    columns = "indexrelname, idx_scan FROM pg_stat_user_indexes"
    rows = postgres.psql(cfg, f"SELECT {columns} WHERE schemaname = '{schema}'")
    return {name: int(n) for name, n in (line.split("|") for line in rows.splitlines() if line)}


def _gin_fields(definitions: dict[str, str]) -> set[str]:
    gins = [d for n, d in definitions.items() if n.startswith("herald_gin_")]
    assert all("USING gin" in d and "jsonb_path_ops" in d for d in gins)
    return {d.split("'")[1] for d in gins}


async def test_every_declared_index_gets_gin_indexes_on_its_fields(
    cfg: StackConfig, mongo_db: AsyncDatabase[Document]
) -> None:
    posts = mongo_db["posts"]
    await posts.insert_one({"_id": "p1", "business_id": "b", "key": "k"})
    await posts.create_index([("business_id", 1), ("key", 1)], unique=True)
    await posts.create_index([("status", 1), ("due_at", 1)])
    await posts.create_index([("business_id", 1)], name="again")  # a field already covered

    definitions = _indexes(cfg, mongo_db.name)
    assert _gin_fields(definitions) == {"_id", "business_id", "key", "status", "due_at"}
    # One per table and field, however many declared indexes name the field.
    assert sum(1 for n in definitions if n.startswith("herald_gin_")) == 5
    # FerretDB's own metadata table is left alone.
    assert not any("_ferretdb_database_metadata" in d and "gin" in d for d in definitions.values())


async def test_equality_reads_and_updates_use_them(
    cfg: StackConfig, mongo_db: AsyncDatabase[Document]
) -> None:
    items = mongo_db["items"]
    await items.create_index([("business_id", 1), ("key", 1)], unique=True)
    await items.insert_many(
        [{"_id": f"i{n}", "business_id": f"b{n % 10}", "key": f"k{n}"} for n in range(2_000)]
    )
    gin = {
        d.split("'")[1]: n
        for n, d in _indexes(cfg, mongo_db.name).items()
        if n.startswith("herald_gin_")
    }
    before = _scans(cfg, mongo_db.name)

    assert await items.find_one({"_id": "i1234"}) is not None
    assert await items.find_one({"business_id": "b3", "key": "k1233"}) is not None
    result = await items.update_one({"_id": "i7"}, {"$set": {"seen": True}})
    assert result.modified_count == 1

    # Statistics reach pg_stat_user_indexes within about a second of a transaction's end.
    deadline = time.monotonic() + 10
    while True:
        after = _scans(cfg, mongo_db.name)
        used = {field for field, name in gin.items() if after[name] > before.get(name, 0)}
        if used >= {"_id", "business_id", "key"} or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.3)
    assert used >= {"_id", "business_id", "key"}


def test_the_trigger_is_installed_again_without_harm(cfg: StackConfig) -> None:
    postgres.prepare(cfg)  # what every start runs: idempotent
    triggers = postgres.psql(cfg, "SELECT evtname, evtenabled FROM pg_event_trigger")
    assert "herald_gin|O" in triggers.splitlines()
