"""What every use case is given (`Deps`, `Policy`) and the small steps they share: sealing and
opening an integration's tokens, emitting its events, holding its lock."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from auth_service.domain import Integration, Margins, Sealed, SecretField, reauth_deadline
from auth_service.errors import Busy
from auth_service.ports import (
    ApiKeyRepo,
    BusinessRepo,
    Clock,
    DeletionRepo,
    DeliveryRepo,
    EventEmitter,
    IntegrationRepo,
    LockRepo,
    Metrics,
    OutboxEntry,
    OutboxRepo,
    ProviderGateway,
    StateRepo,
)
from auth_service.vault import SealContext, Vault
from herald.events import (
    EVENT_TYPES,
    IntegrationConnected,
    IntegrationEvent,
)
from herald.topics import INTEGRATION_EVENTS, Platform

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Policy:
    pepper: str
    public_base_url: str
    state_ttl_s: int
    margins: Margins
    lease_s: float
    wait_s: float
    retry_after_s: int
    batch: int
    coalesce_s: float = 10.0
    meta_app_secret: str = ""
    instagram_app_secret: str = ""
    tiktok_client_secrets: tuple[str, ...] = ()  # the current one, then one being rotated out
    tiktok_tolerance_s: int = 300
    meta_tolerance_s: int = 3_600  # a signed_request's issued_at, either side of now
    completion_url: str | None = None
    return_urls: tuple[str, ...] = ()  # what a connect's return_to may start with


@dataclass
class Deps:
    businesses: BusinessRepo
    keys: ApiKeyRepo
    integrations: IntegrationRepo
    states: StateRepo
    locks: LockRepo
    deletions: DeletionRepo
    deliveries: DeliveryRepo
    providers: Mapping[Platform, ProviderGateway]
    vault: Vault
    emitter: EventEmitter
    clock: Clock
    metrics: Metrics
    policy: Policy
    events_topic: str = INTEGRATION_EVENTS
    outbox: OutboxRepo | None = None


def seal_tokens(
    vault: Vault, business_id: str, integration_id: str, tokens: Mapping[SecretField, str]
) -> dict[SecretField, Sealed]:
    return {
        field: vault.seal(value, SealContext(business_id, integration_id, field))
        for field, value in tokens.items()
        if value
    }


def open_tokens(vault: Vault, integration: Integration) -> dict[SecretField, str]:
    return {
        field: vault.open(sealed, SealContext(integration.business_id, integration.id, field))
        for field, sealed in integration.secrets.items()
    }


def lock_name(integration_id: str) -> str:
    return f"integration:{integration_id}"


@asynccontextmanager
async def integration_lock(deps: Deps, integration_id: str) -> AsyncIterator[str]:
    """Hold the integration's lock (waiting up to `wait_s`); yields the owner id."""
    owner = uuid.uuid4().hex
    name = lock_name(integration_id)
    deadline = time.monotonic() + deps.policy.wait_s
    while not await deps.locks.acquire(name, owner, deps.clock.now(), deps.policy.lease_s):
        if time.monotonic() >= deadline:
            msg = "another replica is working on this integration; try again shortly"
            raise Busy(msg)
        await asyncio.sleep(0.02 + random.random() * 0.03)  # noqa: S311 - jitter, not a secret
    try:
        yield owner
    finally:
        await deps.locks.release(name, owner)


async def emit(
    deps: Deps,
    cls: type[IntegrationEvent],
    integration: Integration,
    *,
    reason: str | None = None,
    at: datetime | None = None,
) -> None:
    """Emit an integration event. The state change is already stored; a broker failure is
    logged and counted, not raised, so a stored change is never reported as failed."""
    fields = {
        "integration_id": integration.id,
        "business_id": integration.business_id,
        "platform": integration.platform,
        "account_id": integration.account_id,
        "status": integration.status,
        "occurred_at": at or deps.clock.now(),
        "reason": reason,
        "expires_at": integration.expires_at,
        "reconnect_by": reauth_deadline(integration),
    }
    if cls is IntegrationConnected:
        fields |= {"account_name": integration.account_name, "scopes": list(integration.scopes)}
    event = cls.model_validate(fields)
    entry = OutboxEntry(
        id=str(uuid.uuid4()),
        event_type=cls.event_type,
        topic=deps.events_topic,
        key=integration.id,
        payload=event.model_dump(mode="json"),
        created_at=deps.clock.now(),
    )
    kept = False
    if deps.outbox is not None:
        try:
            await deps.outbox.add(entry)
            kept = True
        except Exception as exc:  # noqa: BLE001 - still try to produce it
            log.error("integration.event_not_kept", event_type=cls.event_type, error=str(exc))
    try:
        await deps.emitter.emit(
            event, topic=entry.topic, key=entry.key, headers={"ce_id": entry.id}
        )
    except Exception as exc:  # noqa: BLE001 - any broker failure: logged, never raised here
        what = "integration.event_deferred" if kept else "integration.event_not_emitted"
        log.error(what, event_type=cls.event_type, event_id=entry.id, error=str(exc))
        return
    if kept:
        await _forget(deps, entry.id)


async def _forget(deps: Deps, entry_id: str) -> None:
    assert deps.outbox is not None
    try:
        await deps.outbox.remove(entry_id)
    except Exception as exc:  # noqa: BLE001 - the loop sends it again: a duplicate, not a loss
        log.warning("integration.event_outbox_not_cleared", event_id=entry_id, error=str(exc))


async def drain_outbox(deps: Deps, *, min_age_s: float, limit: int = 100) -> int:
    """Produce the events still in the outbox `min_age_s` after they were stored (their first
    send failed, or the process died before it); stops at the first broker failure. Returns how
    many were produced. Consumers see at-least-once: the CloudEvents id is the same each time."""
    if deps.outbox is None:
        return 0
    before = deps.clock.now() - timedelta(seconds=min_age_s)
    sent = 0
    for entry in await deps.outbox.due(before, limit):
        event_cls = EVENT_TYPES.get(entry.event_type)
        if event_cls is None:
            log.error("integration.event_outbox_unknown_type", event_type=entry.event_type)
            continue
        event = event_cls.model_validate(entry.payload)
        try:
            await deps.emitter.emit(
                event, topic=entry.topic, key=entry.key, headers={"ce_id": entry.id}
            )
        except Exception as exc:  # noqa: BLE001 - broker still away: next pass
            log.warning("integration.event_outbox_send_failed", error=str(exc))
            break
        await _forget(deps, entry.id)
        sent += 1
    if sent:
        log.info("integration.event_outbox_sent", events=sent)
    return sent
