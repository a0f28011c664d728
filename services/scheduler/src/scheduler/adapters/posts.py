"""Posts, targets, history and rejections in MongoDB (docs/architecture.md §7 rules).

Idempotency is a unique index on (business_id, idempotency_key): a new submission is inserted
without reading first, and the insert that finds the key taken gets `DuplicateKeyError` and reads
the post that holds it. Targets are inserted with deterministic ids, so finishing an interrupted
submission inserts only what is missing. History entries are keyed by the event id, so a
redelivered result is recorded once.

Every query on the request path is an equality on `_id` or on a declared index's fields: index
lookups on MongoDB, and on the local store too (FerretDB on PostgreSQL with GIN indexes, ADR
0010). Listing and history reads sort, which the local store does after reading what the equality
selects: they are bounded by one business's posts or one post's history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from herald.batching import InsertBatcher
from herald.mongo import Document
from scheduler.domain import has_broadcast
from scheduler.ports import Doc, PostFilter

DUPLICATE_KEY = 11000
# Equality reads that `find_each` keeps in flight at once.
PARALLEL_READS = 16


class MongoPosts:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._posts = db["posts"]
        self._targets = db["targets"]
        self._history = db["history"]
        self._rejections = db["rejections"]
        # Concurrent submissions' and results' inserts share commands (herald.batching).
        self._post_inserts = InsertBatcher(self._posts)
        self._target_inserts = InsertBatcher(self._targets)
        self._history_inserts = InsertBatcher(self._history)

    async def ensure_indexes(self) -> None:
        await self._posts.create_index(
            [("business_id", ASCENDING), ("idempotency_key", ASCENDING)],
            unique=True,
            name="idempotency",
        )
        await self._posts.create_index(
            [("business_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
            name="listing",
        )
        await self._targets.create_index([("post_id", ASCENDING)], name="by_post")
        await self._targets.create_index([("state", ASCENDING)], name="by_state")
        await self._history.create_index(
            [("post_id", ASCENDING), ("at", ASCENDING)], name="by_post"
        )

    async def insert_post(self, post: Doc) -> Doc | None:
        """Insert `post`; None if it went in, else the post already holding its key."""
        if not await self._post_inserts.insert_one(post):
            winner = await self.find_by_key(post["business_id"], post["idempotency_key"])
            if winner is None:  # the holder was deleted (a draft) in between: try again
                return await self.insert_post(post)
            return winner
        return None

    async def find_by_key(self, business_id: str, idempotency_key: str) -> Doc | None:
        return await self._posts.find_one(
            {"business_id": business_id, "idempotency_key": idempotency_key}
        )

    async def update_post(self, post_id: str, changes: Doc) -> None:
        await self._posts.update_one({"_id": post_id}, {"$set": changes})

    async def insert_targets(self, targets: Sequence[Doc]) -> None:
        await self._target_inserts.insert_many(targets)

    async def get_post(self, business_id: str, post_id: str) -> Doc | None:
        post = await self._posts.find_one({"_id": post_id})
        if post is None or post["business_id"] != business_id:
            return None
        return post

    async def delete_post(self, post: Doc) -> None:
        # Targets first: a post left without targets after a crash is still deletable.
        for target in post["target_ids"]:
            await self._targets.delete_one({"_id": target})
        await self._posts.delete_one({"_id": post["_id"]})

    async def list_posts(
        self, where: PostFilter, after: tuple[datetime, str] | None, limit: int
    ) -> list[Doc]:
        query: Doc = {"business_id": where.business_id}
        if where.platform:
            query["platforms"] = where.platform
        if where.integration_id:
            query["integration_ids"] = where.integration_id
        if where.campaign_id:
            query["campaign_id"] = where.campaign_id
        due: Doc = {}
        if where.due_from:
            due["$gte"] = where.due_from
        if where.due_to:
            due["$lt"] = where.due_to
        if due:
            query["due_at"] = due
        if after is not None:
            created, post_id = after
            query["$or"] = [
                {"created_at": {"$lt": created}},
                {"created_at": created, "_id": {"$lt": post_id}},
            ]
        cursor = self._posts.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)])
        return await cursor.limit(limit).to_list()

    async def targets_of(self, posts: Sequence[Doc]) -> list[Doc]:
        """Every target of these posts, ordered by index (a broadcast's batches included)."""
        ids = [t for p in posts if not has_broadcast(p) for t in p["target_ids"]]
        found = await find_each(self._targets, "_id", ids)
        with_batches = [p["_id"] for p in posts if has_broadcast(p)]
        found.extend(await find_each(self._targets, "post_id", with_batches))
        return sorted(found, key=lambda t: (t["index"], t.get("batch") or 0))

    async def get_target(self, target_id: str) -> Doc | None:
        return await self._targets.find_one({"_id": target_id})

    async def update_target(self, target_id: str, changes: Doc) -> None:
        await self._targets.update_one({"_id": target_id}, {"$set": changes})

    async def add_history(self, entry: Doc) -> bool:
        return await self._history_inserts.insert_one(entry)

    async def has_history(self, entry_id: str) -> bool:
        return await self._history.find_one({"_id": entry_id}, {"_id": 1}) is not None

    async def history_of(self, post_id: str, limit: int) -> list[Doc]:
        cursor = self._history.find({"post_id": post_id}).sort("at", ASCENDING)
        return await cursor.limit(limit).to_list()

    async def count_by_state(self, states: Sequence[str]) -> dict[str, int]:
        """Targets in each of `states` (stored state), one indexed equality count each: the
        unfinished states hold in-flight work only, however many finished targets pile up."""
        counts = await asyncio.gather(
            *(self._targets.count_documents({"state": s}) for s in states)
        )
        return dict(zip(states, counts, strict=True))

    async def add_rejection(self, rejection: Doc) -> None:
        try:
            await self._rejections.insert_one(rejection)
        except DuplicateKeyError:
            return  # the same message, redelivered: already kept


async def find_each(
    collection: AsyncCollection[Document],
    field: str,
    values: Sequence[object],
    projection: Doc | None = None,
) -> list[Doc]:
    """Every document whose `field` equals one of `values`, by one equality query per value
    (a few in flight at once) rather than one `$in`: the local store serves an equality from an
    index but applies `$in` after reading the whole collection (ADR 0010). On MongoDB both are
    index lookups."""
    limit = asyncio.Semaphore(PARALLEL_READS)

    async def one(value: object) -> list[Doc]:
        async with limit:
            return await collection.find({field: value}, projection).to_list()

    batches = await asyncio.gather(*(one(v) for v in dict.fromkeys(values)))
    return [doc for batch in batches for doc in batch]


async def insert_ignoring_duplicates(
    collection: AsyncCollection[Document], docs: Sequence[Doc]
) -> set[int]:
    """Insert all; return the indexes of documents that already existed."""
    if not docs:
        return set()
    try:
        await collection.insert_many(list(docs), ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(e.get("code") != DUPLICATE_KEY for e in errors):
            raise
        return {int(e["index"]) for e in errors}
    return set()
