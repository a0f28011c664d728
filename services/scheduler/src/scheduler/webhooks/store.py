"""The webhook collections: endpoints, deliveries, their queue, attempts, watched integrations.

Following the store's rules (docs/architecture.md §7): de-duplication by inserting into a unique
`_id` (a notice queued twice for one endpoint is one delivery; an attempt is claimed by inserting
its claim), hot reads are equalities, and the queue holds only what is still due, so its
range read stays small.

Signing secrets are sealed at rest (`herald.sealing`, ADR 0021): each one an AES-GCM envelope
bound to its endpoint and business, `secrets_kid` naming the key they are all sealed under, so
the endpoints sealed under an older key (or, before sealing, stored in the clear) are found by
one inequality and sealed again under the primary key (`reseal`, at start).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.mongo import Document
from herald.sealing import Envelope, Keyring, SealError
from scheduler.webhooks.held import HeldEndpoints
from scheduler.webhooks.models import Attempt, Delivery, DeliveryState, Endpoint, Secret

log = structlog.get_logger(__name__)


@dataclass
class Resealed:
    resealed: int = 0
    failed: int = 0  # sealed under a key no longer in the keyring: left as they are


class WebhookStore:
    def __init__(
        self, db: AsyncDatabase[Document], keyring: Keyring, *, endpoints_cache_s: float = 0.0
    ) -> None:
        self._keyring = keyring
        self._held = HeldEndpoints(endpoints_cache_s)
        self._endpoints = db["webhook_endpoints"]
        self._deliveries = db["webhook_deliveries"]
        self._queue = db["webhook_queue"]
        self._claims = db["webhook_claims"]
        self._attempts = db["webhook_attempts"]
        self._watch = db["webhook_integrations"]

    async def ensure_indexes(self) -> None:
        await self._endpoints.create_index([("business_id", ASCENDING)], name="by_business")
        await self._deliveries.create_index(
            [("endpoint_id", ASCENDING), ("created_at", DESCENDING)], name="by_endpoint"
        )
        await self._queue.create_index([("due_at", ASCENDING)], name="due")
        await self._attempts.create_index([("delivery_id", ASCENDING)], name="by_delivery")

    # Endpoints

    async def add_endpoint(self, endpoint: Endpoint) -> None:
        self._held.forget(endpoint.business_id)
        await self._endpoints.insert_one(self._endpoint_doc(endpoint))

    async def save_endpoint(self, endpoint: Endpoint) -> None:
        self._held.forget(endpoint.business_id)
        await self._endpoints.replace_one({"_id": endpoint.id}, self._endpoint_doc(endpoint))

    async def endpoint(self, endpoint_id: str) -> Endpoint | None:
        doc = await self._endpoints.find_one({"_id": endpoint_id})
        return None if doc is None else self._endpoint_of(doc)

    async def endpoints_of(self, business_id: str) -> list[Endpoint]:
        docs = await self._endpoints.find({"business_id": business_id}).to_list()
        return sorted((self._endpoint_of(d) for d in docs), key=lambda e: (e.created_at, e.id))

    async def endpoints_to_tell(self, business_id: str) -> list[Endpoint]:
        """`endpoints_of`, as read at most `endpoints_cache_s` ago: what a notice is queued
        for. A change made through another replica shows within that time; a delivery to an
        endpoint deleted or disabled meanwhile fails with that reason when it is sent."""
        found = self._held.get(business_id)
        if found is None:
            found = await self.endpoints_of(business_id)
            self._held.put(business_id, found)
        return found

    async def reseal(self) -> Resealed:
        """Seal again under the primary key every endpoint's secrets sealed under another key
        or stored in the clear. Only the secrets change, and only where they are still as read
        (a rotation meanwhile has sealed them under the primary key already)."""
        report = Resealed()
        primary = self._keyring.primary_kid
        async for doc in self._endpoints.find({"secrets_kid": {"$ne": primary}}):
            try:
                secrets = self._endpoint_of(doc).secrets
            except SealError as exc:
                report.failed += 1
                log.error("webhook.reseal_failed", endpoint_id=doc["_id"], error=str(exc))
                continue
            was = doc.get("secrets_kid")
            where = {"_id": doc["_id"], "secrets_kid": was or {"$exists": False}}
            sealed = self._sealed(doc["_id"], doc["business_id"], secrets)
            changed = await self._endpoints.update_one(
                where, {"$set": {"secrets": sealed, "secrets_kid": primary}}
            )
            report.resealed += changed.modified_count
        if report.resealed or report.failed:
            log.info("webhook.resealed", primary_kid=primary, **vars(report))
        return report

    def _sealed(self, endpoint_id: str, business_id: str, secrets: tuple[Secret, ...]) -> list[Any]:
        context = _context(endpoint_id, business_id)
        return [
            {
                "sealed": self._keyring.seal(s.value, context).doc(),
                "created_at": s.created_at,
                "expires_at": s.expires_at,
            }
            for s in secrets
        ]

    def _endpoint_doc(self, e: Endpoint) -> Document:
        return {
            **_endpoint_fields(e),
            "secrets": self._sealed(e.id, e.business_id, e.secrets),
            "secrets_kid": self._keyring.primary_kid,
        }

    def _endpoint_of(self, d: Document) -> Endpoint:
        context = _context(d["_id"], d["business_id"])
        secrets = tuple(
            Secret(self._open(s, context), _aware(s["created_at"]), _maybe(s.get("expires_at")))
            for s in d.get("secrets") or []
        )
        return _endpoint_of(d, secrets)

    def _open(self, stored: Document, context: str) -> str:
        if "sealed" in stored:
            return self._keyring.open(Envelope.of(stored["sealed"]), context)
        return str(stored["value"])  # stored before sealing; `reseal` seals it at start

    async def delete_endpoint(self, endpoint_id: str) -> None:
        self._held.forget()  # its business is not at hand here; a deletion is rare
        await self._endpoints.delete_one({"_id": endpoint_id})

    # Deliveries

    async def add_delivery(self, delivery: Delivery) -> bool:
        """Queue a new delivery; False when it exists (the same notice for the same endpoint)."""
        try:
            await self._deliveries.insert_one(_delivery_doc(delivery))
        except DuplicateKeyError:
            return False
        await self.enqueue(delivery.id, delivery.endpoint_id, delivery.next_attempt_at)
        return True

    async def enqueue(self, delivery_id: str, endpoint_id: str, due: datetime | None) -> None:
        doc = {"_id": delivery_id, "endpoint_id": endpoint_id, "due_at": due}
        await self._queue.replace_one({"_id": delivery_id}, doc, upsert=True)

    async def dequeue(self, delivery_id: str) -> None:
        await self._queue.delete_one({"_id": delivery_id})

    async def due(self, moment: datetime, limit: int) -> list[str]:
        cursor = self._queue.find({"due_at": {"$lte": moment}}).sort("due_at", ASCENDING)
        return [d["_id"] for d in await cursor.limit(limit).to_list()]

    async def claim(self, delivery_id: str, attempt: int, owner: str, at: datetime) -> bool:
        """Whether this replica takes attempt `attempt` of the delivery (first insert wins)."""
        doc = {"_id": f"{delivery_id}:{attempt}", "owner": owner, "claimed_at": at}
        try:
            await self._claims.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def delivery(self, delivery_id: str) -> Delivery | None:
        doc = await self._deliveries.find_one({"_id": delivery_id})
        return None if doc is None else _delivery_of(doc)

    async def save_delivery(self, delivery: Delivery) -> None:
        await self._deliveries.replace_one({"_id": delivery.id}, _delivery_doc(delivery))

    async def deliveries_of(self, endpoint_id: str, limit: int) -> list[Delivery]:
        cursor = self._deliveries.find({"endpoint_id": endpoint_id})
        docs = await cursor.sort("created_at", DESCENDING).limit(limit).to_list()
        return [_delivery_of(d) for d in docs]

    async def add_attempt(self, attempt: Attempt, endpoint_id: str) -> None:
        doc = {
            "_id": f"{attempt.delivery_id}:{attempt.number}",
            "delivery_id": attempt.delivery_id,
            "endpoint_id": endpoint_id,
            "number": attempt.number,
            "at": attempt.at,
            "status_code": attempt.status_code,
            "error": attempt.error,
            "duration_ms": attempt.duration_ms,
        }
        await self._attempts.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def attempts_of(self, delivery_ids: list[str]) -> dict[str, list[Attempt]]:
        found: dict[str, list[Attempt]] = {i: [] for i in delivery_ids}
        for delivery_id in delivery_ids:  # equality reads (the local store's cheap kind)
            for d in await self._attempts.find({"delivery_id": delivery_id}).to_list():
                found[delivery_id].append(
                    Attempt(
                        delivery_id=d["delivery_id"],
                        number=d["number"],
                        at=d["at"],
                        status_code=d.get("status_code"),
                        error=d.get("error"),
                        duration_ms=d.get("duration_ms", 0),
                    )
                )
            found[delivery_id].sort(key=lambda a: a.number)
        return found

    # Integrations whose end is watched (integration.expiring)

    async def watch(self, doc: Document) -> None:
        """Remember an integration's reconnection deadline; a warning already sent for the
        same deadline is kept, so it is sent once."""
        current = await self._watch.find_one({"_id": doc["_id"]})
        if current is not None and current.get("reconnect_by") == doc.get("reconnect_by"):
            doc = {**doc, "warned_for": current.get("warned_for")}
        await self._watch.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def watched(self) -> list[Document]:
        # One row per integration with a known end: small by design, read whole.
        return await self._watch.find({"reconnect_by": {"$ne": None}}).to_list()

    async def warned(self, integration_id: str, reconnect_by: datetime) -> None:
        await self._watch.update_one(
            {"_id": integration_id}, {"$set": {"warned_for": reconnect_by}}
        )


def _context(endpoint_id: str, business_id: str) -> str:
    return f"scheduler/webhook-secret|{business_id}|{endpoint_id}"


def _endpoint_fields(e: Endpoint) -> Document:
    """Everything of an endpoint but its secrets (sealed by the store)."""
    return {
        "_id": e.id,
        "business_id": e.business_id,
        "url": e.url,
        "event_types": list(e.event_types),
        "description": e.description,
        "enabled": e.enabled,
        "created_at": e.created_at,
        "updated_at": e.updated_at,
        "failing_since": e.failing_since,
        "disabled_at": e.disabled_at,
        "disabled_reason": e.disabled_reason,
    }


def _endpoint_of(d: Document, secrets: tuple[Secret, ...]) -> Endpoint:
    return Endpoint(
        id=d["_id"],
        business_id=d["business_id"],
        url=d["url"],
        event_types=tuple(d.get("event_types") or ()),
        description=d.get("description"),
        enabled=bool(d.get("enabled")),
        secrets=secrets,
        created_at=_aware(d["created_at"]),
        updated_at=_aware(d["updated_at"]),
        failing_since=_maybe(d.get("failing_since")),
        disabled_at=_maybe(d.get("disabled_at")),
        disabled_reason=d.get("disabled_reason"),
    )


def _delivery_doc(x: Delivery) -> Document:
    return {
        "_id": x.id,
        "message_id": x.message_id,
        "endpoint_id": x.endpoint_id,
        "business_id": x.business_id,
        "webhook_type": x.webhook_type,
        "payload": x.payload,
        "state": x.state.value,
        "attempts": x.attempts,
        "created_at": x.created_at,
        "next_attempt_at": x.next_attempt_at,
        "first_attempt_at": x.first_attempt_at,
        "last_status": x.last_status,
        "last_error": x.last_error,
        "delivered_at": x.delivered_at,
    }


def _delivery_of(d: Document) -> Delivery:
    return Delivery(
        id=d["_id"],
        message_id=d["message_id"],
        endpoint_id=d["endpoint_id"],
        business_id=d["business_id"],
        webhook_type=d["webhook_type"],
        payload=d["payload"],
        state=DeliveryState(d["state"]),
        attempts=int(d.get("attempts") or 0),
        created_at=_aware(d["created_at"]),
        next_attempt_at=_maybe(d.get("next_attempt_at")),
        first_attempt_at=_maybe(d.get("first_attempt_at")),
        last_status=d.get("last_status"),
        last_error=d.get("last_error"),
        delivered_at=_maybe(d.get("delivered_at")),
    )


def _aware(moment: Any) -> datetime:
    assert isinstance(moment, datetime)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _maybe(moment: Any) -> datetime | None:
    return None if moment is None else _aware(moment)
