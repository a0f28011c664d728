"""The publication ledger: one entry per target, the publisher's memory of what it did.

`_id` is the target id. The entry moves `in_progress → published | failed`; while in progress it
holds the platform flow's checkpoint (container id, publish id, uploaded photo ids), so a
redelivered request resumes instead of repeating a visible step.

Exclusivity works on FerretDB, whose updates are not atomic (docs/architecture.md, "Store rules"): a
handler takes a **lease** by inserting `{_id: "<target>:<epoch>"}` into `ledger_leases` with a
unique `_id`. The newest epoch is the lease; an expired one is taken over by inserting the next
epoch, and only one contender's insert can succeed. Releasing inserts the next epoch already
expired. Lease documents are never updated, and neither the newest epoch nor the first is ever
deleted, so no read-modify-write race can hand a lease to two holders.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from herald.batching import InsertBatcher
from herald.events import PostRequested
from herald.mongo import Document

LEDGER = "ledger"
LEASES = "ledger_leases"
# A published entry's place in the insights job's queue (herald.insights.snapshots): "new" when
# published here, then the 10-minute slot of its next snapshot, removed when none is left.
INSIGHTS_DUE = "insights_due"
INSIGHTS_NEW = "new"


class EntryState(StrEnum):
    IN_PROGRESS = "in_progress"
    PUBLISHED = "published"
    FAILED = "failed"


@dataclass(frozen=True)
class Lease:
    target_id: str
    owner: str
    epoch: int


@dataclass
class LedgerEntry:
    target_id: str
    state: EntryState
    attempt: int
    checkpoint_step: str | None = None
    checkpoint: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    replays: list[str] = field(default_factory=list)
    fresh: bool = False  # created by this `begin`: no earlier handling of the target began

    @classmethod
    def from_document(cls, doc: Document) -> LedgerEntry:
        return cls(
            target_id=doc["_id"],
            state=EntryState(doc["state"]),
            attempt=int(doc.get("attempt", 1)),
            checkpoint_step=doc.get("checkpoint_step"),
            checkpoint=dict(doc.get("checkpoint") or {}),
            result=doc.get("result"),
            error=doc.get("error"),
            replays=list(doc.get("replays") or []),
        )


@dataclass(frozen=True)
class Opening:
    """A checkpoint known before a flow's first platform call (see `MongoLedger.start`)."""

    step: str
    data: dict[str, Any]


class Ledger(Protocol):
    async def acquire(self, target_id: str) -> Lease | None: ...
    async def release(self, lease: Lease) -> None: ...
    async def begin(self, request: PostRequested, attempt: int) -> LedgerEntry: ...
    async def start(
        self, request: PostRequested, attempt: int, opening: Opening | None = None
    ) -> tuple[Lease, LedgerEntry] | None: ...
    async def save_checkpoint(self, lease: Lease, step: str, data: dict[str, Any]) -> None: ...
    async def complete(self, lease: Lease, result: dict[str, Any]) -> None: ...
    async def fail(self, lease: Lease, error: dict[str, Any]) -> None: ...
    async def reopen(self, lease: Lease, replay_id: str) -> LedgerEntry: ...


class MongoLedger:
    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        lease_s: float = 300.0,
        owner: str | None = None,
    ) -> None:
        self._entries = db[LEDGER]
        self._leases = db[LEASES]
        # Concurrent handlers' inserts share commands (herald.batching): every lease, release
        # and new entry is an insert, and a publisher runs several handlers at once.
        self._lease_inserts = InsertBatcher(self._leases)
        self._entry_inserts = InsertBatcher(self._entries)
        self._lease = timedelta(seconds=lease_s)
        self._owner = owner or uuid.uuid4().hex

    async def ensure_indexes(self) -> None:
        await self._leases.create_index([("target_id", 1), ("epoch", DESCENDING)])
        await self._entries.create_index([("state", 1), ("updated_at", 1)])

    async def acquire(self, target_id: str) -> Lease | None:
        # Most targets are leased once: try the first epoch before reading anything.
        first = await self._insert_lease(target_id, 1)
        if first is not None:
            return first
        return await self._take_over(target_id)

    async def start(
        self, request: PostRequested, attempt: int, opening: Opening | None = None
    ) -> tuple[Lease, LedgerEntry] | None:
        """`acquire`, then `begin` under the lease: None when another holds it. The common
        case (a target's first handling) costs one round trip, not two: its first lease and its
        entry are inserted together. An entry inserted this way while the lease went to another
        is only an entry that exists, as if an earlier handling had begun: whoever holds the
        lease reads it and sees it is not `fresh`, the cautious reading. An entry this call
        inserted but leased only by taking over an expired lease is not `fresh` either: the
        expired holder may have acted.

        `opening` is the checkpoint the adapter's flow would save first (`PlatformAdapter`'s
        optional `opening`): a new entry is inserted holding it, one update less. Only an entry
        this call creates holds it; any other keeps its own checkpoint."""
        doc = self._entry_document(request, attempt)
        if opening is not None:
            doc |= {"checkpoint_step": opening.step, "checkpoint": dict(opening.data)}
        first, inserted = await asyncio.gather(
            self._insert_lease(request.target_id, 1),
            self._entry_inserts.insert_one(doc),
            return_exceptions=True,
        )
        if isinstance(first, BaseException):
            raise first
        if isinstance(inserted, BaseException):
            if first is not None:
                await self.release(first)
            raise inserted
        lease = first or await self._take_over(request.target_id)
        if lease is None:
            return None
        if inserted and first is not None:
            entry = LedgerEntry.from_document(doc)
            entry.fresh = True
            return lease, entry
        try:
            return lease, await self.begin(request, attempt)
        except BaseException:
            await self.release(lease)
            raise

    async def _take_over(self, target_id: str) -> Lease | None:
        """The next epoch's lease when the newest has expired; None while it holds."""
        now = datetime.now(UTC)
        latest = await self._leases.find_one({"target_id": target_id}, sort=[("epoch", DESCENDING)])
        if latest is None:  # cannot happen while epoch 1 is never deleted; refuse, to be safe
            return None
        if _aware(latest["expires_at"]) > now:
            return None
        return await self._insert_lease(target_id, int(latest["epoch"]) + 1)

    async def _insert_lease(self, target_id: str, epoch: int) -> Lease | None:
        doc = {
            "_id": f"{target_id}:{epoch}",
            "target_id": target_id,
            "epoch": epoch,
            "owner": self._owner,
            "expires_at": datetime.now(UTC) + self._lease,
        }
        if not await self._lease_inserts.insert_one(doc):
            return None  # another contender holds or took this epoch
        return Lease(target_id, self._owner, epoch)

    async def release(self, lease: Lease) -> None:
        # Released by inserting the next epoch, already expired: an insert is cheaper than an
        # update on FerretDB (no read-modify-write), and it keeps every lease write an insert.
        # If that epoch exists, our lease had expired and someone took over: nothing to release.
        marker = {
            "_id": f"{lease.target_id}:{lease.epoch + 1}",
            "target_id": lease.target_id,
            "epoch": lease.epoch + 1,
            "owner": None,
            "expires_at": datetime.now(UTC),
        }
        await self._lease_inserts.insert_one(marker)  # taken: someone took over; nothing to do
        if lease.epoch > 2:
            # Epochs between the first and this one are history nobody contends for. The newest
            # is kept (module doc), and so is the first: `acquire` tries epoch 1 blindly, which
            # must keep failing once a target has been leased.
            stale = {"$gt": 1, "$lt": lease.epoch}
            await self._leases.delete_many({"target_id": lease.target_id, "epoch": stale})

    async def begin(self, request: PostRequested, attempt: int) -> LedgerEntry:
        doc = self._entry_document(request, attempt)
        if not await self._entry_inserts.insert_one(doc):
            existing = await self._entries.find_one({"_id": request.target_id})
            if existing is None:  # deleted between the insert and the read: start again
                return await self.begin(request, attempt)
            entry = LedgerEntry.from_document(existing)
            if entry.state is EntryState.IN_PROGRESS and entry.attempt != attempt:
                await self._set(request.target_id, {"attempt": attempt})
                entry.attempt = attempt
            return entry
        entry = LedgerEntry.from_document(doc)
        entry.fresh = True
        return entry

    def _entry_document(self, request: PostRequested, attempt: int) -> Document:
        now = datetime.now(UTC)
        return {
            "_id": request.target_id,
            "post_id": request.post_id,
            "business_id": request.business_id,
            "integration_id": request.integration_id,
            "platform": request.platform.value,
            "state": EntryState.IN_PROGRESS.value,
            "attempt": attempt,
            "checkpoint_step": None,
            "checkpoint": {},
            "created_at": now,
            "updated_at": now,
        }

    async def save_checkpoint(self, lease: Lease, step: str, data: dict[str, Any]) -> None:
        await self._set(lease.target_id, {"checkpoint_step": step, "checkpoint": data})

    async def complete(self, lease: Lease, result: dict[str, Any]) -> None:
        published = {"state": EntryState.PUBLISHED.value, "result": result}
        await self._set(lease.target_id, published | {INSIGHTS_DUE: INSIGHTS_NEW})

    async def fail(self, lease: Lease, error: dict[str, Any]) -> None:
        await self._set(lease.target_id, {"state": EntryState.FAILED.value, "error": error})

    async def reopen(self, lease: Lease, replay_id: str) -> LedgerEntry:
        existing = await self._entries.find_one({"_id": lease.target_id})
        if existing is None:
            msg = f"no ledger entry for {lease.target_id}"
            raise LookupError(msg)
        replays = [*list(existing.get("replays") or []), replay_id]
        changes = {"state": EntryState.IN_PROGRESS.value, "attempt": 1, "replays": replays}
        await self._set(lease.target_id, changes)
        return LedgerEntry.from_document({**existing, **changes})

    async def get(self, target_id: str) -> LedgerEntry | None:
        doc = await self._entries.find_one({"_id": target_id})
        return None if doc is None else LedgerEntry.from_document(doc)

    async def _set(self, target_id: str, changes: dict[str, Any]) -> None:
        await self._entries.update_one(
            {"_id": target_id}, {"$set": {**changes, "updated_at": datetime.now(UTC)}}
        )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
