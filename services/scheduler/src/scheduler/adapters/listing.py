"""One business's posts, newest first, read a page at a time (ADR 0010, "Listing").

MongoDB serves the listing from its `listing` index as a range. The local store cannot: FerretDB
1.24 pushes only equalities down to PostgreSQL, so `{business_id}` sorted by `created_at` read,
decoded and sorted every post of the business for every page (about 1.7 s at 10,000 posts), and
the console's History page asked for it on every view. So each post carries two equality keys
the store can index:

- `page`: its business's running count of posts (a counter document per business in
  `post_pages`, one `$inc` per new post or per burst) divided by `PAGE_SIZE`. A listing reads
  the newest pages first, a few at once, each an equality read of at most `PAGE_SIZE` posts,
  and stops when it has enough; then it reads `EXTRA_PAGES` more, so that a post counted a
  moment before others but created a moment after (submissions racing, `created_at` being set
  before the count) still comes out in order: up to `EXTRA_PAGES * PAGE_SIZE` posts apart.
- `due_day`: the UTC day of `due_at`. A listing bounded by due time over at most
  `DAY_SPAN_LIMIT` days (a calendar's week or month) reads those days.

Posts stored before the pages existed have neither: a business that had such posts when its
counter began is marked `legacy`, and its listing reads them, by the old whole-business query,
only once the pages run out. Lookups by `external_ref` or idempotency key are already narrow
(their own indexes) and are read directly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from herald.mongo import Document
from scheduler.ports import PostFilter

PAGE_SIZE = 32
# Pages read at once at most (the first round reads just enough for the limit, then doubles).
MAX_WIDTH = 16
# Pages read past the limit, for posts counted out of their creation order.
EXTRA_PAGES = 2
# A due-time range over at most this many days is read day by day.
DAY_SPAN_LIMIT = 93


def due_day(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date().isoformat()


class PostListing:
    def __init__(self, posts: AsyncCollection[Document], pages: AsyncCollection[Document]) -> None:
        self._posts = posts
        self._pages = pages
        self._counters = _Counters(pages)

    async def ensure_indexes(self) -> None:
        await self._posts.create_index(
            [("business_id", ASCENDING), ("page", ASCENDING)], name="by_page"
        )
        await self._posts.create_index(
            [("business_id", ASCENDING), ("due_day", ASCENDING)], name="by_due_day"
        )

    async def stamp(self, doc: Document) -> None:
        """Give a new post's document its page and due day (before it is inserted)."""
        business = doc["business_id"]
        count = await self._counters.next(business)
        if count == 1:  # the business's counter begins: were there posts before pages?
            await self._mark_legacy(business)
        doc["page"] = (count - 1) // PAGE_SIZE
        doc["due_day"] = due_day(doc.get("due_at"))

    async def read(
        self, where: PostFilter, after: tuple[datetime, str] | None, limit: int
    ) -> list[Document]:
        equal = _equalities(where)
        rest = _ranges(where, after)
        if where.external_ref or where.idempotency_key:
            return await self._scan(equal | rest, limit)
        counter = await self._pages.find_one({"_id": where.business_id})
        if counter is None:  # no post since pages began: none at all, or only older ones
            return await self._scan(equal | rest, limit)
        legacy = bool(counter.get("legacy"))
        days = None if legacy else _days(where)
        if days is not None:
            found = await _each(self._posts, [equal | rest | {"due_day": d} for d in days])
            return _newest(found, limit)
        start = (int(counter["n"]) - 1) // PAGE_SIZE
        if after is not None:
            held = await self._posts.find_one({"_id": after[1]}, {"page": 1})
            if held is None or "page" not in held:  # the cursor's post is gone or older
                return await self._scan(equal | rest, limit)
            # What follows the cursor may have been counted a little after it.
            start = min(start, int(held["page"]) + EXTRA_PAGES)
        return await self._walk(equal | rest, start, limit, legacy=legacy)

    async def _walk(self, query: Document, start: int, limit: int, *, legacy: bool) -> list[Any]:
        found: list[Document] = []
        page = start
        width = max(2, -(-limit // PAGE_SIZE) + 1)
        enough = False
        while page >= 0:
            pages = range(page, max(page - width, -1), -1)
            found.extend(await _each(self._posts, [query | {"page": p} for p in pages]))
            page -= width
            if enough:
                break
            if len(found) >= limit:
                enough, width = True, EXTRA_PAGES  # racing neighbours
                continue
            width = min(width * 2, MAX_WIDTH)
        if page < 0 and len(found) < limit and legacy:
            found.extend(await self._scan(query | {"page": {"$exists": False}}, limit))
        return _newest(found, limit)

    async def _scan(self, query: Document, limit: int) -> list[Document]:
        cursor = self._posts.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)])
        return list(await cursor.limit(limit).to_list())

    async def _mark_legacy(self, business: str) -> None:
        older = await self._posts.find_one(
            {"business_id": business, "page": {"$exists": False}}, {"_id": 1}
        )
        if older is not None:
            await self._pages.update_one({"_id": business}, {"$set": {"legacy": True}})


class _Counters:
    """Each business's post counter. Increments for one business that meet while one is in
    flight go out as one `$inc` (as herald.batching does for inserts): a burst of submissions
    costs a round trip per burst, not per post."""

    def __init__(self, pages: AsyncCollection[Document]) -> None:
        self._pages = pages
        self._queues: dict[str, list[asyncio.Future[int]]] = {}
        self._flushing: dict[str, asyncio.Task[None]] = {}

    async def next(self, business: str) -> int:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(business, []).append(done)
        task = self._flushing.get(business)
        if task is None or task.done():
            self._flushing[business] = asyncio.create_task(self._flush(business))
        return await asyncio.shield(done)

    async def _flush(self, business: str) -> None:
        queue = self._queues[business]
        batch: list[asyncio.Future[int]] = []
        try:
            while queue:
                batch = queue[:]
                del queue[:]
                try:
                    last = await self._add(business, len(batch))
                except Exception as exc:  # noqa: BLE001 - handed to the callers, as if theirs
                    for waiting in batch:
                        if not waiting.done():
                            waiting.set_exception(exc)
                    continue
                for i, waiting in enumerate(batch):
                    if not waiting.done():
                        waiting.set_result(last - len(batch) + 1 + i)
        finally:
            for waiting in [*batch, *queue]:  # cancelled (shutdown) with callers waiting
                if not waiting.done():
                    waiting.cancel()
            self._queues.pop(business, None)
            self._flushing.pop(business, None)

    async def _add(self, business: str, count: int) -> int:
        for _ in range(3):
            try:
                counter = await self._pages.find_one_and_update(
                    {"_id": business},
                    {"$inc": {"n": count}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:  # two replicas' first posts raced to create it
                continue
            if counter is not None:  # an upsert returns what it wrote
                return int(counter["n"])
        msg = f"the post counter of {business} could not be incremented"
        raise RuntimeError(msg)


def _equalities(where: PostFilter) -> Document:
    query: Document = {"business_id": where.business_id}
    if where.platform:
        query["platforms"] = where.platform
    if where.integration_id:
        query["integration_ids"] = where.integration_id
    if where.campaign_id:
        query["campaign_id"] = where.campaign_id
    if where.external_ref:
        query["external_ref"] = where.external_ref
    if where.idempotency_key:
        query["idempotency_key"] = where.idempotency_key
    return query


def _ranges(where: PostFilter, after: tuple[datetime, str] | None) -> Document:
    query: Document = {}
    due: Document = {}
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
    return query


def _days(where: PostFilter) -> list[str] | None:
    """The UTC days a bounded due-time range covers, if few enough to read one by one."""
    if where.due_from is None or where.due_to is None:
        return None
    first = _utc_date(where.due_from)
    last = _utc_date(where.due_to - timedelta(microseconds=1))
    if last < first:
        return []
    span = (last - first).days + 1
    if span > DAY_SPAN_LIMIT:
        return None
    return [(first + timedelta(days=i)).isoformat() for i in range(span)]


def _utc_date(moment: datetime) -> date:
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()


async def _each(collection: AsyncCollection[Document], queries: Sequence[Document]) -> list[Any]:
    batches = await asyncio.gather(*(collection.find(q).to_list() for q in queries))
    return [doc for batch in batches for doc in batch]


def _newest(found: list[Document], limit: int) -> list[Document]:
    unique = {doc["_id"]: doc for doc in found}
    ordered = sorted(unique.values(), key=_created_desc, reverse=True)
    return ordered[:limit]


def _created_desc(doc: Document) -> tuple[datetime, str]:
    created: datetime = doc["created_at"]
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return created, str(doc["_id"])
