"""The scheduler's local view of integrations: what it last heard of each (from auth-service
at submission, then from `integration.events`), and each one's **lane** (ADR 0025).

A lane places an integration's `post.requested` on a partition (`lane` modulo the topic's
partitions, `herald.emitter`) instead of the hash of its id: Kafka's default partitioner put
8 accounts on 6 of 12 partitions on average, and a partition handles one request at a time, so a
business's accounts shared them while other partitions sat idle. A business's integrations get
consecutive lanes from an offset drawn from its id (`business_offset`), counted by a counter per
business (`integration_lanes`), once, when the scheduler first stores the integration; a lane
never changes after, so an integration's requests keep their order on one partition (as long as
the topic's partition count does not change, as with keys).
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.events import IntegrationStatus
from herald.mongo import Document
from scheduler.adapters.posts import find_each
from scheduler.ports import IntegrationInfo

HELD_LANES = 100_000  # integrations whose lane a process holds at most
OFFSETS = 4096  # a business's first lane is one of these, drawn from its id


def business_offset(business_id: str) -> int:
    """Where a business's lanes begin: stable, spread over `OFFSETS` (CRC-32 of its id)."""
    return zlib.crc32(business_id.encode()) % OFFSETS


class MongoIntegrations:
    """What the scheduler last heard about each integration (from auth-service at submission,
    then from `integration.events`); the dispatcher reads it instead of calling auth-service
    once per target."""

    def __init__(
        self, db: AsyncDatabase[Document], *, memo_s: float = 10.0, read_memo_s: float = 2.0
    ) -> None:
        self._view = db["integrations"]
        # What this process last read or wrote per integration, and when: submissions repeating
        # a known status skip their write for `memo_s`; the dispatcher, claiming a batch, reads
        # what is at most `read_memo_s` old from here instead of one query per integration.
        # `integration.events` write through `observe`; another replica's may reach this one
        # that much later, and the publisher's token request catches an expired one anyway.
        self._memo_s = memo_s
        self._read_memo_s = read_memo_s
        self._memo: dict[str, tuple[float, IntegrationStatus]] = {}
        self._lanes: dict[str, int] = {}  # given once, never changed: held as long as wanted
        self._counters = db["integration_lanes"]

    def _note(self, integration_id: str, status: IntegrationStatus) -> None:
        if len(self._memo) >= 10_000:
            self._memo.clear()
        self._memo[integration_id] = (time.monotonic(), status)

    def _noted(self, key: str, within_s: float | None = None) -> IntegrationStatus | None:
        noted = self._memo.get(key)
        window = self._memo_s if within_s is None else within_s
        return noted[1] if noted is not None and time.monotonic() - noted[0] < window else None

    async def statuses(self, integration_ids: Iterable[str]) -> dict[str, IntegrationStatus]:
        known: dict[str, IntegrationStatus] = {}
        missing = []
        for integration_id in dict.fromkeys(integration_ids):
            status = self._noted(integration_id, self._read_memo_s)
            if status is None:
                missing.append(integration_id)
            else:
                known[integration_id] = status
        for doc in await find_each(self._view, "_id", missing):
            known[doc["_id"]] = IntegrationStatus(doc["status"])
            self._note(doc["_id"], known[doc["_id"]])
            self._hold_lane(doc)
        return known

    async def lanes(self, integration_ids: Iterable[str]) -> dict[str, int]:
        """Each integration's lane (module doc); one stored before lanes existed has none until
        its status next changes, and its requests are placed by the key's hash meanwhile."""
        wanted = list(dict.fromkeys(integration_ids))
        missing = [i for i in wanted if i not in self._lanes]
        for doc in await find_each(self._view, "_id", missing):
            self._hold_lane(doc)
        return {i: self._lanes[i] for i in wanted if i in self._lanes}

    def _hold_lane(self, doc: Document) -> None:
        lane = doc.get("lane")
        if isinstance(lane, int):
            if len(self._lanes) >= HELD_LANES:
                self._lanes.clear()
            self._lanes[doc["_id"]] = lane

    async def remember(self, infos: Sequence[IntegrationInfo], at: datetime) -> None:
        news = [i for i in infos if self._noted(i.integration_id) is not i.status]
        known = await self.statuses(i.integration_id for i in news)
        for info in news:
            if known.get(info.integration_id) is not info.status:
                await self.observe(info, at)
            else:
                self._note(info.integration_id, info.status)

    async def observe(self, info: IntegrationInfo, occurred_at: datetime) -> bool:
        known = await self._view.find_one({"_id": info.integration_id})
        if known is not None and known["occurred_at"] > occurred_at:
            return False
        doc = {
            "business_id": info.business_id,
            "platform": info.platform.value,
            "status": info.status.value,
            "occurred_at": occurred_at,
        }
        try:
            await self._view.update_one({"_id": info.integration_id}, {"$set": doc}, upsert=True)
        except DuplicateKeyError:  # another request's upsert inserted it a moment before: FerretDB
            # does not retry such an upsert as an update, as MongoDB does (submissions answered 500)
            await self._view.update_one({"_id": info.integration_id}, {"$set": doc})
        self._note(info.integration_id, info.status)
        if known is None or not isinstance(known.get("lane"), int):
            await self._give_lane(info)
        return True

    async def _give_lane(self, info: IntegrationInfo) -> None:
        """The business's next lane, from its offset: its accounts' requests take consecutive
        partitions. Two replicas seeing a new integration at once may both give one; the later
        stands, a moment after it was first stored (ADR 0025)."""
        counted = await self._count(info.business_id)
        lane = business_offset(info.business_id) + counted - 1
        await self._view.update_one(
            {"_id": info.integration_id, "lane": {"$exists": False}}, {"$set": {"lane": lane}}
        )

    async def _count(self, business_id: str) -> int:
        for _ in range(3):
            try:
                counter = await self._counters.find_one_and_update(
                    {"_id": business_id},
                    {"$inc": {"n": 1}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
            except DuplicateKeyError:  # two replicas' first integrations raced to create it
                continue
            if counter is not None:
                return int(counter["n"])
        msg = f"the integration counter of {business_id} could not be incremented"
        raise RuntimeError(msg)
