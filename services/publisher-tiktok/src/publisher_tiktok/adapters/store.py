"""This publisher's own MongoDB collections beside the runtime's ledger.

- `tiktok_webhooks`: what TikTok's webhooks said, one document per (publish id, event) so a
  repeated delivery changes nothing (TikTok delivers at least once, in any order); and one
  mark per `authorization.removed` forwarded (`_id` `authorization.removed:<sha256 of body>`),
  so a replayed one is not forwarded again. Both are swept by the runtime's retention sweep once
  older than `retention.keep_days` (`RETENTION`), far past the signature's window (300 s) and
  the longest wait for a publish (48 h), so the collection does not grow without bound.
- the ledger's published TikTok entries whose public post id is still unknown, and the one
  update that records it (`record_post_id`, won by one writer only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.ledger import INSIGHTS_DUE, INSIGHTS_NEW, LEDGER, EntryState
from herald.mongo import Document
from herald.retention import Rule
from publisher_tiktok.ports import PublishStatus

WEBHOOKS = "tiktok_webhooks"
RETENTION = (Rule(WEBHOOKS, "at"),)
_FINAL = {
    "post.publish.failed": "FAILED",
    "post.publish.complete": "PUBLISH_COMPLETE",
    "post.publish.publicly_available": "PUBLISH_COMPLETE",
    "post.publish.inbox_delivered": "SEND_TO_USER_INBOX",
}


@dataclass(frozen=True)
class AwaitingId:
    """A published public post whose TikTok post id is not known yet."""

    target_id: str
    document: Document

    @property
    def publish_id(self) -> str:
        return str(self.document["checkpoint"]["publish_id"])


class MongoOutcomes:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._webhooks = db[WEBHOOKS]
        self._ledger = db[LEDGER]

    async def ensure_indexes(self) -> None:
        await self._webhooks.create_index([("publish_id", 1)])

    async def record(self, publish_id: str, event: str, content: dict[str, Any]) -> bool:
        """Keep one webhook event; False when it was delivered before."""
        document: Document = {
            "_id": f"{publish_id}:{event}",
            "publish_id": publish_id,
            "event": event,
            "reason": content.get("reason"),
            "post_id": None if content.get("post_id") is None else str(content["post_id"]),
            "at": datetime.now(UTC),
        }
        try:
            await self._webhooks.insert_one(document)
        except DuplicateKeyError:
            return False
        return True

    async def first_delivery(self, key: str) -> bool:
        try:
            await self._webhooks.insert_one({"_id": key, "at": datetime.now(UTC)})
        except DuplicateKeyError:
            return False
        return True

    async def forget_delivery(self, key: str) -> None:
        await self._webhooks.delete_one({"_id": key})

    async def learned(self, publish_id: str) -> PublishStatus | None:
        events = {
            doc["event"]: doc async for doc in self._webhooks.find({"publish_id": publish_id})
        }
        failed = events.get("post.publish.failed")
        if failed is not None:
            return PublishStatus("FAILED", fail_reason=failed.get("reason") or "internal")
        public = events.get("post.publish.publicly_available")
        for event, status in _FINAL.items():
            if event in events and status != "FAILED":
                ids = [public["post_id"]] if public and public.get("post_id") else []
                return PublishStatus(status, post_ids=ids)
        return None

    async def awaiting_ids(self, since: datetime, limit: int) -> list[AwaitingId]:
        query = {
            "platform": "tiktok",
            "state": EntryState.PUBLISHED.value,
            "result.platform_post_id": None,
            "result.published_at": {"$gte": since},
            "checkpoint.public": True,
        }
        cursor = self._ledger.find(query).sort("result.published_at", 1).limit(limit)
        return [AwaitingId(doc["_id"], doc) async for doc in cursor]

    async def record_post_id(self, target_id: str, post_id: str, link: str | None) -> bool:
        """Put the id into the ledger's result; True for the one writer that did."""
        result = await self._ledger.update_one(
            {"_id": target_id, "result.platform_post_id": None},
            # back into the insights queue (herald.insights.snapshots): its id is known now
            {
                "$set": {
                    "result.platform_post_id": post_id,
                    "result.permalink": link,
                    INSIGHTS_DUE: INSIGHTS_NEW,
                }
            },
        )
        return result.modified_count == 1
