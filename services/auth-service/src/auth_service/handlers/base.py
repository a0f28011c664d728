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
from datetime import datetime

import structlog

from auth_service.domain import Integration, Margins, Sealed, SecretField
from auth_service.errors import Busy
from auth_service.ports import (
    ApiKeyRepo,
    BusinessRepo,
    Clock,
    DeletionRepo,
    EventEmitter,
    IntegrationRepo,
    LockRepo,
    Metrics,
    ProviderGateway,
    StateRepo,
)
from auth_service.vault import SealContext, Vault
from herald.events import (
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
    tiktok_client_secret: str = ""
    tiktok_tolerance_s: int = 300
    completion_url: str | None = None


@dataclass
class Deps:
    businesses: BusinessRepo
    keys: ApiKeyRepo
    integrations: IntegrationRepo
    states: StateRepo
    locks: LockRepo
    deletions: DeletionRepo
    providers: Mapping[Platform, ProviderGateway]
    vault: Vault
    emitter: EventEmitter
    clock: Clock
    metrics: Metrics
    policy: Policy
    events_topic: str = INTEGRATION_EVENTS


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
    }
    if cls is IntegrationConnected:
        fields |= {"account_name": integration.account_name, "scopes": list(integration.scopes)}
    event = cls.model_validate(fields)
    try:
        await deps.emitter.emit(event, topic=deps.events_topic, key=integration.id)
    except Exception as exc:  # noqa: BLE001 - any broker failure: logged, never raised here
        log.error("integration.event_not_emitted", event_type=cls.event_type, error=str(exc))
