"""Reading kept rejections per business (`GET /v1/rejections`); `MongoPosts` writes them."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from herald.events import Violation
from herald.mongo import Document


@dataclass(frozen=True)
class KeptRejection:
    id: str
    rejected_at: datetime
    idempotency_key: str | None
    source_event_id: str | None
    violations: list[Violation]
    body: bytes


class MongoRejections:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._rejections = db["rejections"]

    async def ensure_indexes(self) -> None:
        await self._rejections.create_index(
            [("business_id", ASCENDING), ("rejected_at", DESCENDING)], name="by_business"
        )

    async def of_business(
        self,
        business_id: str,
        *,
        idempotency_key: str | None,
        before: datetime | None,
        limit: int,
    ) -> list[KeptRejection]:
        query: Document = {"business_id": business_id}
        if idempotency_key is not None:
            query["idempotency_key"] = idempotency_key
        if before is not None:
            query["rejected_at"] = {"$lt": before}
        cursor = self._rejections.find(query).sort("rejected_at", DESCENDING).limit(limit)
        return [_kept(d) for d in await cursor.to_list()]


def _kept(doc: Document) -> KeptRejection:
    at = doc["rejected_at"]
    return KeptRejection(
        id=str(doc["_id"]),
        rejected_at=at if at.tzinfo is not None else at.replace(tzinfo=UTC),
        idempotency_key=doc.get("idempotency_key"),
        source_event_id=doc.get("source_event_id"),
        violations=[Violation.model_validate(v) for v in doc.get("violations") or []],
        body=base64.b64decode(doc.get("body_base64") or ""),
    )
