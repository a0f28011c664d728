"""Posts, targets, history and rejections in MongoDB (docs/architecture.md, "Store rules").

Idempotency is a unique index on (business_id, idempotency_key): a new submission is inserted
without reading first, and the insert that finds the key taken gets `DuplicateKeyError` and reads
the post that holds it. Targets are inserted with deterministic ids, so finishing an interrupted
submission inserts only what is missing. History entries are keyed by the event id, so a
redelivered result is recorded once.

Every query on the request path is an equality on `_id` or on a declared index's fields: index
lookups on MongoDB, and on the local store too (FerretDB on PostgreSQL with GIN indexes, ADR
0010). Listing reads a business's posts a page at a time by equality (scheduler.adapters.listing);
history reads sort one post's history, which the local store does after reading it.
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
from herald.events import Schedule
from herald.mongo import Document
from scheduler.adapters.documents import (
    changes_document,
    history_document,
    history_of,
    post_document,
    post_of,
    rejection_document,
    target_document,
    target_of,
)
from scheduler.adapters.listing import PostListing, due_day
from scheduler.models import HistoryEntry, Post, Rejection, Target, TargetChanges
from scheduler.ports import PostFilter

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
        self._listing = PostListing(self._posts, db["post_pages"])

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
        await self._posts.create_index(
            [("business_id", ASCENDING), ("external_ref", ASCENDING)], name="by_external_ref"
        )
        await self._targets.create_index([("post_id", ASCENDING)], name="by_post")
        await self._targets.create_index([("state", ASCENDING)], name="by_state")
        await self._history.create_index(
            [("post_id", ASCENDING), ("at", ASCENDING)], name="by_post"
        )
        await self._listing.ensure_indexes()

    async def insert_post(self, post: Post) -> Post | None:
        """Insert `post`; None if it went in, else the post already holding its key."""
        doc = post_document(post)
        await self._listing.stamp(doc)
        if not await self._post_inserts.insert_one(doc):
            winner = await self.find_by_key(post.business_id, post.idempotency_key)
            if winner is None:  # the holder was deleted (a draft) in between: try again
                return await self.insert_post(post)
            return winner
        return None

    async def find_by_key(self, business_id: str, idempotency_key: str) -> Post | None:
        doc = await self._posts.find_one(
            {"business_id": business_id, "idempotency_key": idempotency_key}
        )
        return None if doc is None else post_of(doc)

    async def schedule_post(self, post_id: str, due_at: datetime) -> None:
        changes = {"draft": False, "due_at": due_at, "due_day": due_day(due_at)}
        await self._posts.update_one({"_id": post_id}, {"$set": changes})

    async def move_post(self, post_id: str, schedule: Schedule, due_at: datetime) -> None:
        # `due_day` moves too: a calendar's week is read day by day (scheduler.adapters.listing).
        asked = {"publish_at": schedule.publish_at, "timezone": schedule.timezone}
        changes = {"schedule": asked, "due_at": due_at, "due_day": due_day(due_at)}
        await self._posts.update_one({"_id": post_id}, {"$set": changes})

    async def insert_targets(self, targets: Sequence[Target]) -> None:
        await self._target_inserts.insert_many([target_document(t) for t in targets])

    async def get_post(self, business_id: str, post_id: str) -> Post | None:
        doc = await self._posts.find_one({"_id": post_id})
        if doc is None or doc["business_id"] != business_id:
            return None
        return post_of(doc)

    async def delete_post(self, post: Post) -> None:
        # Targets first: a post left without targets after a crash is still deletable.
        for target in post.target_ids:
            await self._targets.delete_one({"_id": target})
        await self._posts.delete_one({"_id": post.id})

    async def list_posts(
        self, where: PostFilter, after: tuple[datetime, str] | None, limit: int
    ) -> list[Post]:
        return [post_of(d) for d in await self._listing.read(where, after, limit)]

    async def targets_of(self, posts: Sequence[Post]) -> list[Target]:
        """Every target of these posts, ordered by index (a broadcast's batches included)."""
        ids = [t for p in posts if not p.has_broadcast for t in p.target_ids]
        found = await find_each(self._targets, "_id", ids)
        with_batches = [p.id for p in posts if p.has_broadcast]
        found.extend(await find_each(self._targets, "post_id", with_batches))
        return sorted((target_of(d) for d in found), key=lambda t: t.order)

    async def get_target(self, target_id: str) -> Target | None:
        doc = await self._targets.find_one({"_id": target_id})
        return None if doc is None else target_of(doc)

    async def update_target(self, target_id: str, changes: TargetChanges) -> None:
        await self._targets.update_one({"_id": target_id}, {"$set": changes_document(changes)})

    async def add_history(self, entry: HistoryEntry) -> bool:
        return await self._history_inserts.insert_one(history_document(entry))

    async def has_history(self, entry_id: str) -> bool:
        return await self._history.find_one({"_id": entry_id}, {"_id": 1}) is not None

    async def history_of(self, post_id: str, limit: int) -> list[HistoryEntry]:
        cursor = self._history.find({"post_id": post_id}).sort("at", ASCENDING)
        return [history_of(d) for d in await cursor.limit(limit).to_list()]

    async def count_by_state(self, states: Sequence[str]) -> dict[str, int]:
        """Targets in each of `states` (stored state), one indexed equality count each: the
        unfinished states hold in-flight work only, however many finished targets pile up."""
        counts = await asyncio.gather(
            *(self._targets.count_documents({"state": s}) for s in states)
        )
        return dict(zip(states, counts, strict=True))

    async def add_rejection(self, rejection: Rejection) -> None:
        try:
            await self._rejections.insert_one(rejection_document(rejection))
        except DuplicateKeyError:
            return  # the same message, redelivered: already kept


async def find_each(
    collection: AsyncCollection[Document],
    field: str,
    values: Sequence[object],
    projection: Document | None = None,
) -> list[Document]:
    """Every document whose `field` equals one of `values`, by one equality query per value
    (a few in flight at once) rather than one `$in`: the local store serves an equality from an
    index but applies `$in` after reading the whole collection (ADR 0010). On MongoDB both are
    index lookups."""
    limit = asyncio.Semaphore(PARALLEL_READS)

    async def one(value: object) -> list[Document]:
        async with limit:
            return await collection.find({field: value}, projection).to_list()

    batches = await asyncio.gather(*(one(v) for v in dict.fromkeys(values)))
    return [doc for batch in batches for doc in batch]


async def insert_ignoring_duplicates(
    collection: AsyncCollection[Document], docs: Sequence[Document]
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
