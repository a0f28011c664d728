"""Inserts into one collection that meet while one is in flight go out as one `insert_many`.

A service under load inserts into the same few collections from many concurrent handlers (the
scheduler's submissions, a publisher's leases and ledger entries). Each insert alone is a round
trip and, on the local store, a transaction of its own in PostgreSQL. An `InsertBatcher` sends
the first insert at once and gathers whatever arrives while it is in flight into the next
`insert_many(ordered=False)`: no insert waits for a timer, and under load one command carries
many documents.

Every caller still learns about its own documents only: a duplicate key is reported for the
documents that hit one (the caller decides what that means, as before: someone else holds it),
any other write error or a failure of the whole command is raised to every caller whose
documents were in that command. `ordered=False` keeps one caller's duplicate from stopping the
others' inserts; on FerretDB a batch with a duplicate is retried a document at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

from herald.mongo import Document

DUPLICATE_KEY = 11000


@dataclass
class _Request:
    docs: list[Document]
    done: asyncio.Future[set[int]]


class InsertBatcher:
    """`insert_many` for one collection, batched with the concurrent calls of other callers."""

    def __init__(self, collection: AsyncCollection[Document], *, max_docs: int = 1_000) -> None:
        self._collection = collection
        self._max_docs = max_docs
        self._queue: list[_Request] = []
        self._flushing: asyncio.Task[None] | None = None

    async def insert_one(self, doc: Document) -> bool:
        """Insert `doc`; False if its `_id` (or another unique key) was taken."""
        return not await self.insert_many([doc])

    async def insert_many(self, docs: Sequence[Document]) -> set[int]:
        """Insert `docs` (independently); the indexes of those that hit a duplicate key."""
        if not docs:
            return set()
        done: asyncio.Future[set[int]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Request(list(docs), done))
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        return await asyncio.shield(done)

    async def _flush(self) -> None:
        while self._queue:
            batch: list[_Request] = []
            size = 0
            while self._queue and (not batch or size + len(self._queue[0].docs) <= self._max_docs):
                request = self._queue.pop(0)
                batch.append(request)
                size += len(request.docs)
            await self._send(batch)

    async def _send(self, batch: list[_Request]) -> None:
        docs = [doc for request in batch for doc in request.docs]
        failure: BaseException | None = None
        errors: list[dict[str, object]] = []
        try:
            await self._collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = list(exc.details.get("writeErrors", []))
            if exc.details.get("writeConcernErrors"):
                failure = exc  # nothing says which documents are safe: everyone hears it
            bulk_error: BulkWriteError | None = exc
        except BaseException as exc:  # noqa: BLE001 - handed to the callers, as if theirs
            failure = exc
        else:
            bulk_error = None
        codes = {int(str(e["index"])): e.get("code") for e in errors}
        start = 0
        for request in batch:
            mine = range(start, start + len(request.docs))
            start += len(request.docs)
            if request.done.done():
                continue
            if isinstance(failure, asyncio.CancelledError):
                request.done.cancel()
            elif failure is not None:
                request.done.set_exception(failure)
            elif bulk_error is not None and any(
                codes.get(i) not in (None, DUPLICATE_KEY) for i in mine
            ):
                request.done.set_exception(bulk_error)  # one of its documents was refused
            else:
                duplicates = {i - mine.start for i in mine if codes.get(i) == DUPLICATE_KEY}
                request.done.set_result(duplicates)
