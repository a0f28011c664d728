"""Tokens for publishers, and refreshing them single-flight across replicas.

A refresh takes the integration's lock (a unique insert with a lease), re-reads the integration
and returns early if another caller already did the work (double check, after Nango). TikTok
rotates refresh tokens, so two parallel refreshes would break the connection: with the lock,
one refresh call reaches the platform however many callers ask at once. `invalid_grant` (and
Graph 190) mark the integration expired with an event; network errors leave it for a retry; a
stored refresh token is never replaced by an empty one.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta

import structlog

from auth_service.domain import (
    Integration,
    SecretField,
    TokenGrant,
    access_usable,
    refreshable,
)
from auth_service.errors import Busy, NeedsReauthorization, NotFound, ProviderUnavailable
from auth_service.handlers.base import Deps, emit, lock_name, open_tokens, seal_tokens
from auth_service.handlers.lifecycle import expire, owned
from herald.errors import NeedsReauth, PlatformError
from herald.events import IntegrationRefreshed, IntegrationStatus

log = structlog.get_logger(__name__)

Needs = Callable[[Integration], bool]


@dataclass(frozen=True)
class UsableToken:
    integration: Integration
    access_token: str


def _needs_reauth(integration: Integration) -> NeedsReauthorization:
    msg = f"integration {integration.id} is {integration.status.value}; reconnect it"
    return NeedsReauthorization(
        msg,
        integration_id=integration.id,
        status=integration.status.value,
        reason=integration.reason,
    )


async def usable_token(deps: Deps, business_id: str, integration_id: str) -> UsableToken:
    """The access token, refreshed first if it is about to expire."""
    integration = await owned(deps, business_id, integration_id)
    if not integration.usable:
        raise _needs_reauth(integration)
    if not access_usable(integration, deps.clock.now()):
        integration = await refresh(
            deps, integration_id, lambda i: not access_usable(i, deps.clock.now())
        )
    now = deps.clock.now()
    await deps.integrations.touch(integration.id, now)
    token = open_tokens(deps.vault, integration)[SecretField.ACCESS]
    return UsableToken(replace(integration, last_used_at=now), token)


async def force_refresh(deps: Deps, business_id: str, integration_id: str) -> UsableToken:
    """Refresh now, unless a refresh finished less than `coalesce_s` before this request
    arrived or after it (then share that one: a burst of callers makes one refresh)."""
    await owned(deps, business_id, integration_id)
    since = deps.clock.now() - timedelta(seconds=deps.policy.coalesce_s)
    integration = await refresh(
        deps, integration_id, lambda i: i.last_refresh_at is None or i.last_refresh_at < since
    )
    token = open_tokens(deps.vault, integration)[SecretField.ACCESS]
    return UsableToken(integration, token)


async def refresh(deps: Deps, integration_id: str, needs: Needs) -> Integration:
    """Single-flight: wait for the lock or for someone else's refresh that satisfies `needs`."""
    owner = uuid.uuid4().hex
    name = lock_name(integration_id)
    deadline = time.monotonic() + deps.policy.wait_s
    while True:
        current = await _usable(deps, integration_id)
        if not needs(current):
            return current
        if await deps.locks.acquire(name, owner, deps.clock.now(), deps.policy.lease_s):
            try:
                current = await _usable(deps, integration_id)  # re-read under the lock
                return current if not needs(current) else await refresh_locked(deps, current)
            finally:
                await deps.locks.release(name, owner)
        if time.monotonic() >= deadline:
            msg = "a refresh of this integration is still running; try again shortly"
            raise Busy(msg)
        await asyncio.sleep(0.02 + random.random() * 0.03)  # noqa: S311 - jitter, not a secret


async def _usable(deps: Deps, integration_id: str) -> Integration:
    current = await deps.integrations.get(integration_id)
    if current is None:
        msg = f"no integration {integration_id}"
        raise NotFound(msg)
    if not current.usable:
        raise _needs_reauth(current)
    return current


async def refresh_locked(
    deps: Deps, current: Integration, *, check_only: bool = False
) -> Integration:
    """Refresh (or check) one integration; the caller holds its lock."""
    provider = deps.providers[current.platform]
    platform = current.platform.value
    tokens = open_tokens(deps.vault, current)
    try:
        if check_only or not refreshable(current, deps.clock.now()):
            await provider.check(current, tokens)
            grant = None
        else:
            grant = await provider.refresh(current, tokens)
    except NeedsReauth as exc:
        deps.metrics.refresh(platform, "expired")
        log.info("integration.expired", platform=platform, code=exc.code)
        expired = await expire(deps, current, f"{exc.code or 'needs_reauth'}: {exc.message}")
        raise _needs_reauth(expired) from exc
    except PlatformError as exc:
        deps.metrics.refresh(platform, f"failed_{exc.category.value}")
        await _record_failure(deps, current, exc)
        msg = f"{platform} could not refresh the token: {exc.message}"
        raise ProviderUnavailable(msg) from exc
    if grant is None:
        deps.metrics.refresh(platform, "checked")
        return await _store(deps, replace(current, last_checked_at=deps.clock.now()))
    stored = await _store(deps, _apply(deps, current, tokens, grant))
    deps.metrics.refresh(platform, "refreshed")
    await emit(deps, IntegrationRefreshed, stored)
    return stored


def _apply(
    deps: Deps, current: Integration, old: dict[SecretField, str], grant: TokenGrant
) -> Integration:
    now = deps.clock.now()
    tokens = dict(old)
    tokens[SecretField.ACCESS] = grant.access_token
    if grant.refresh_token:  # never replace a stored refresh token by an empty one
        tokens[SecretField.REFRESH] = grant.refresh_token
    if grant.user_token:
        tokens[SecretField.USER] = grant.user_token
    return replace(
        current,
        secrets=seal_tokens(deps.vault, current.business_id, current.id, tokens),
        expires_at=grant.expires_at,
        refresh_expires_at=grant.refresh_expires_at or current.refresh_expires_at,
        user_expires_at=grant.user_expires_at or current.user_expires_at,
        scopes=grant.scopes or current.scopes,
        last_refresh_at=now,
        last_checked_at=now,
        next_attempt_at=None,
        last_error=None,
        refresh_failures=0,
    )


async def _store(deps: Deps, updated: Integration) -> Integration:
    """Write under the lock. If the version moved anyway (a lease ran out), write the new
    tokens onto the latest version: after a rotation they are the only ones that work."""
    expected = updated.version
    for _ in range(3):
        if await deps.integrations.replace(updated, expected_version=expected):
            return replace(updated, version=expected + 1)
        latest = await deps.integrations.get(updated.id)
        if latest is None or latest.status is not IntegrationStatus.ACTIVE:
            break
        log.error("integration.version_moved_during_refresh", integration_id=updated.id)
        expected = latest.version
    msg = "the integration changed while it was being refreshed"
    raise ProviderUnavailable(msg)


async def _record_failure(deps: Deps, current: Integration, exc: PlatformError) -> None:
    delay = exc.retry_after_s or deps.policy.retry_after_s
    failed = replace(
        current,
        last_error=f"{exc.category.value}: {exc.message}"[:300],
        refresh_failures=current.refresh_failures + 1,
        next_attempt_at=deps.clock.now() + timedelta(seconds=delay),
    )
    if await deps.integrations.replace(failed, expected_version=current.version):
        log.warning("integration.refresh_failed", platform=current.platform, error=exc.message)
