"""An integration's life: connected (new or renewed), expired, disconnected by the business, by
the person at the platform (Meta deauthorize, data deletion) or by TikTok's webhook.

Every change of tokens or status is written under the integration's lock and with a version
check, so a refresh, a rotation and a disconnect never overwrite each other.
"""

from __future__ import annotations

import secrets
from dataclasses import replace

import structlog

from auth_service.domain import AuthServer, DiscoveredAccount, Integration, Sealed, SecretField
from auth_service.errors import NotFound
from auth_service.handlers.base import Deps, emit, integration_lock, open_tokens, seal_tokens
from auth_service.ports import DuplicateAccount
from herald.errors import PlatformError
from herald.events import (
    IntegrationConnected,
    IntegrationDisconnected,
    IntegrationExpired,
    IntegrationStatus,
)

log = structlog.get_logger(__name__)


def new_integration_id() -> str:
    return f"int_{secrets.token_hex(12)}"


async def store_connected(deps: Deps, business_id: str, account: DiscoveredAccount) -> Integration:
    """One integration per business and account: inserted, or renewed if it exists."""
    existing = await deps.integrations.find_account(
        business_id, account.platform, account.account_id
    )
    if existing is None:
        integration = _fresh(deps, business_id, account, new_integration_id())
        try:
            await deps.integrations.insert(integration)
        except DuplicateAccount:
            existing = await deps.integrations.find_account(
                business_id, account.platform, account.account_id
            )
        else:
            await emit(deps, IntegrationConnected, integration)
            return integration
    if existing is None:
        msg = "the integration vanished while it was being connected"
        raise NotFound(msg)
    async with integration_lock(deps, existing.id):
        current = await deps.integrations.get(existing.id) or existing
        fresh = _fresh(deps, business_id, account, current.id)
        renewed = replace(
            fresh,
            secrets=_kept_pin(current) | fresh.secrets,
            version=current.version,
            last_used_at=current.last_used_at,
        )
        if not await deps.integrations.replace(renewed, expected_version=current.version):
            msg = "the integration changed while it was being renewed"
            raise NotFound(msg)
    renewed = replace(renewed, version=current.version + 1)
    await emit(deps, IntegrationConnected, renewed)
    return renewed


def _kept_pin(current: Integration) -> dict[SecretField, Sealed]:
    """A WhatsApp number's two-step PIN outlives a reconnection that did not register it (it
    is sealed for this integration id, which a renewal keeps)."""
    pin = current.secrets.get(SecretField.PIN)
    return {SecretField.PIN: pin} if pin is not None else {}


def _fresh(
    deps: Deps, business_id: str, account: DiscoveredAccount, integration_id: str
) -> Integration:
    now = deps.clock.now()
    return Integration(
        id=integration_id,
        business_id=business_id,
        platform=account.platform,
        account_id=account.account_id,
        account_name=account.account_name,
        account=dict(account.account),
        scopes=account.scopes,
        status=IntegrationStatus.ACTIVE,
        mode=account.mode,
        auth_server=account.auth_server,
        provider_user_id=account.provider_user_id,
        secrets=seal_tokens(deps.vault, business_id, integration_id, account.tokens),
        connected_at=now,
        expires_at=account.expires_at,
        refresh_expires_at=account.refresh_expires_at,
        user_expires_at=account.user_expires_at,
        last_checked_at=now,
    )


async def owned(deps: Deps, business_id: str, integration_id: str) -> Integration:
    """The business's integration, or 404 (also for another business's id)."""
    integration = await deps.integrations.get(integration_id)
    if integration is None or integration.business_id != business_id:
        msg = f"no integration {integration_id}"
        raise NotFound(msg)
    return integration


async def expire(deps: Deps, integration: Integration, reason: str) -> Integration:
    """Mark expired (the caller holds the lock) and emit `integration.expired`."""
    expired = replace(
        integration, status=IntegrationStatus.EXPIRED, reason=reason, last_error=reason
    )
    if await deps.integrations.replace(expired, expected_version=integration.version):
        expired = replace(expired, version=integration.version + 1)
        await emit(deps, IntegrationExpired, expired, reason=reason)
    return expired


async def disconnect(deps: Deps, business_id: str, integration_id: str) -> tuple[Integration, bool]:
    """Disconnect for the business: revoke at the platform where it allows and where no other
    connected integration shares the grant, forget the tokens, emit `disconnected`."""
    await owned(deps, business_id, integration_id)
    async with integration_lock(deps, integration_id):
        current = await owned(deps, business_id, integration_id)
        if current.status is IntegrationStatus.DISCONNECTED:
            return current, False
        revoked = await _revoke(deps, current)
        return await _mark_disconnected(deps, current, "disconnected_by_business"), revoked


async def _revoke(deps: Deps, integration: Integration) -> bool:
    if integration.provider_user_id:
        sharing = await deps.integrations.of_provider_user(
            integration.auth_server, integration.provider_user_id
        )
        others = [
            i for i in sharing if i.id != integration.id and i.status is IntegrationStatus.ACTIVE
        ]
        if others:
            return False  # revoking would cut the other integrations of the same grant
    try:
        tokens = open_tokens(deps.vault, integration)
        return await deps.providers[integration.platform].revoke(integration, tokens)
    except PlatformError as exc:
        log.warning("integration.revoke_failed", platform=integration.platform, error=exc.message)
        return False


async def _mark_disconnected(deps: Deps, integration: Integration, reason: str) -> Integration:
    now = deps.clock.now()
    gone = replace(
        integration,
        status=IntegrationStatus.DISCONNECTED,
        secrets={},
        reason=reason,
        disconnected_at=now,
    )
    if not await deps.integrations.replace(gone, expected_version=integration.version):
        msg = "the integration changed while it was being disconnected"
        raise NotFound(msg)
    gone = replace(gone, version=integration.version + 1)
    await emit(deps, IntegrationDisconnected, gone, reason=reason)
    return gone


async def disconnect_grant(
    deps: Deps, auth_server: AuthServer, provider_user_id: str, reason: str, *, purge: bool = False
) -> list[Integration]:
    """The person removed the app at the platform: every integration of that grant is
    disconnected (with `purge`, its account name is forgotten too, for data deletion)."""
    done = []
    for found in await deps.integrations.of_provider_user(auth_server, provider_user_id):
        async with integration_lock(deps, found.id):
            current = await deps.integrations.get(found.id)
            if current is None:
                continue
            if current.status is not IntegrationStatus.DISCONNECTED:
                current = await _mark_disconnected(deps, current, reason)
            if purge and current.account_name is not None:
                purged = replace(current, account_name=None)
                if await deps.integrations.replace(purged, expected_version=current.version):
                    current = replace(purged, version=current.version + 1)
            done.append(current)
    return done
