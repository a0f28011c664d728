"""Each target's latest snapshot, kept beside the history (docs/adr/0020-analytics-read-model.md,
"The latest snapshot per target").

The summary counts a target by its latest snapshot with figures, and reading a period's whole
history to find it read three documents per target (1 h, 24 h, 7 d) to use one: 677 ms for a
90-day Overview at 10,000 posts a year. `post_insights_latest` holds one document per target
(`_id` the target id): the snapshot with the greatest age among those with figures, with the same
fields and publication buckets as in `post_insights`, so a period is read by the same equalities
on a third of the documents.

A snapshot replaces the one kept only when it is older in age (`age_s` less than the new one's
in the filter of an upsert): when it is not, the upsert's insert meets the `_id` and is a
duplicate, which is the answer "keep what is there". So the order events arrive in, replicas
writing at once and a redelivered event change nothing. A snapshot refused by the platform
(`unavailable`) is never kept: the summary counts figures only.

Snapshots stored before this existed are given their targets' latest once, in the background
(`backfill`, after the buckets' backfill), which then writes a marker; until a reader has seen
the marker it finds the latest in the history, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.mongo import Document
from scheduler.analytics import buckets

LATEST = "post_insights_latest"
KEPT = "post_insights.latest"  # the marker: every target's latest snapshot is kept
# Upserts in flight at once. One command each: FerretDB 1.24 answers a bulk write whose upserts
# meet duplicates without `nModified`, which PyMongo cannot read.
AT_ONCE = 16
# Not copied from a snapshot: which event told it and when (the history keeps them).
NOT_KEPT = ("_id", "event_id", "received_at")


class LatestSnapshots:
    def __init__(self, db: AsyncDatabase[Document], markers: AsyncCollection[Document]) -> None:
        self._latest = db[LATEST]
        self._markers = markers
        self._kept = False  # the backfill's marker seen (it is never taken back)

    async def ensure_indexes(self) -> None:
        for field in (buckets.DAY, buckets.WEEK):
            await self._latest.create_index(
                [("business_id", ASCENDING), (field, ASCENDING)], name=f"by_{field}"
            )

    async def keep(self, snapshot: Document) -> None:
        """Keep a stored snapshot (a `post_insights` document) as its target's latest, unless
        one at least as old in age is kept already or it has no figures."""
        if snapshot.get("unavailable") is not None:
            return
        try:
            await self._latest.update_one(*_keeping(snapshot), upsert=True)
        except DuplicateKeyError:
            return  # one as old or older in age is kept

    @property
    def find(self) -> Any:
        """The kept documents' `find` (the store reads a period with it)."""
        return self._latest.find

    async def kept(self) -> bool:
        """Whether every target's latest snapshot is kept (the backfill's marker is written)."""
        if not self._kept:
            self._kept = await self._markers.find_one({"_id": KEPT}) is not None
        return self._kept

    async def backfill(self, history: AsyncCollection[Document]) -> int:
        """Keep the latest of every target in `history` (every snapshot with figures stored),
        then write the marker; how many targets were written. Once the marker exists this
        reads only it. Replicas running it at once, and snapshots recorded meanwhile, write
        nothing a later age would not replace."""
        if await self.kept():
            return 0
        found = await history.find(
            {"unavailable": {"$exists": False}}, dict.fromkeys(NOT_KEPT[1:], 0)
        ).to_list()
        latest = _latest_of(found)
        for i in range(0, len(latest), AT_ONCE):
            await asyncio.gather(*(self.keep(doc) for doc in latest[i : i + AT_ONCE]))
        with contextlib.suppress(DuplicateKeyError):  # another replica's marker a moment before
            await self._markers.update_one(
                {"_id": KEPT}, {"$set": {"at": datetime.now(UTC)}}, upsert=True
            )
        self._kept = True
        return len(latest)


def _keeping(snapshot: Document) -> tuple[Document, Document]:
    """The upsert's filter and update: replace only a snapshot kept at a lesser age."""
    fields = {k: v for k, v in snapshot.items() if k not in NOT_KEPT}
    if buckets.DAY not in fields:  # stored before the buckets, not yet given them
        fields |= buckets.stamp(buckets.stored_moment(fields))
    target = {"_id": fields["target_id"], "age_s": {"$lt": int(fields["age_s"])}}
    return target, {"$set": fields}


def _latest_of(snapshots: Iterable[Document]) -> list[Document]:
    latest: dict[str, Document] = {}
    for doc in snapshots:
        known = latest.get(doc["target_id"])
        if known is None or int(doc["age_s"]) > int(known["age_s"]):
            latest[doc["target_id"]] = doc
    return list(latest.values())
