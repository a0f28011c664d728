"""The posts store's reads on the real store: counts of unfinished states, reads by several
keys (one equality each), the idempotency key held by the unique index."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from herald.events import Schedule
from herald.mongo import Document
from herald.topics import Platform
from scheduler.adapters.posts import MongoPosts, find_each
from scheduler.models import Post, TargetSpec

pytestmark = pytest.mark.connected

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


async def test_counts_only_the_states_asked_for(mongo_db: AsyncDatabase[Document]) -> None:
    posts = MongoPosts(mongo_db)
    await posts.ensure_indexes()
    states = ["scheduled"] * 3 + ["retrying"] + ["published"] * 5
    await mongo_db["targets"].insert_many(
        [{"_id": f"t{i}", "state": s} for i, s in enumerate(states)]
    )
    counts = await posts.count_by_state(["draft", "scheduled", "retrying"])
    assert counts == {"draft": 0, "scheduled": 3, "retrying": 1}


async def test_find_each_reads_every_key_once(mongo_db: AsyncDatabase[Document]) -> None:
    await mongo_db["facts"].insert_many([{"_id": f"f{i}", "key": f"k{i % 3}"} for i in range(7)])
    found = await find_each(mongo_db["facts"], "key", ["k0", "k2", "k0", "missing"])
    assert sorted(d["_id"] for d in found) == ["f0", "f2", "f3", "f5", "f6"]
    assert await find_each(mongo_db["facts"], "key", []) == []


async def test_a_taken_key_answers_with_the_post_holding_it(
    mongo_db: AsyncDatabase[Document],
) -> None:
    posts = MongoPosts(mongo_db)
    await posts.ensure_indexes()
    first = Post(
        id="p1",
        business_id="b",
        idempotency_key="k",
        fingerprint="f",
        source="api",
        content={"text": "hello"},
        targets=(TargetSpec("fb-1", Platform.FACEBOOK, {"platform": "facebook"}),),
        schedule=Schedule(),
        due_at=NOW,
        draft=False,
        target_ids=("p1-0",),
        created_at=NOW,
    )
    assert await posts.insert_post(first) is None
    assert await posts.insert_post(replace(first, id="p2")) == first
    assert await posts.find_by_key("b", "k") == first
    assert await posts.find_by_key("other", "k") is None
