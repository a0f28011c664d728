"""auth-service through `herald.authclient.AuthClient`: API-key introspection and look-up by key
id (the client reuses an answer for `auth.key_cache_s`, at most 1 s, so a revocation is seen that
soon: ADR 0014) and integration checks, as this service's `ApiKeys` and `Integrations` ports.

auth-service being unreachable, slow or refusing our service token is `Unavailable` (503 with
Retry-After on the API; the message is put back on Kafka), never "the key is invalid".

An integration's answer is reused for `cache_s` (10 s by default): a business posting to the same
accounts does not cost an auth-service call per submission. Only found integrations are kept (an
account connected a moment ago is seen at once), and `forget` drops one when `integration.events`
says it changed; another replica learns of it when its copy runs out. What slips through that
window is caught at publish time: the publisher's token request fails with `needs_reauth`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import httpx
import structlog

from herald.authclient import (
    AuthClient,
    AuthClientError,
    AuthServiceRejected,
    IntegrationNotFound,
    KeyIntrospection,
)
from herald.errors import PlatformError
from herald.tracing import traced_transport
from scheduler.errors import Unavailable
from scheduler.ports import ApiKeys, IntegrationInfo, Integrations, KeyInfo
from scheduler.settings import Settings

log = structlog.get_logger(__name__)


class AuthServiceKeys:
    def __init__(self, client: AuthClient) -> None:
        self._client = client

    async def introspect(self, key: str) -> KeyInfo | None:
        return await self._ask(self._client.introspect, key)

    async def by_id(self, key_id: str) -> KeyInfo | None:
        return await self._ask(self._client.lookup_key, key_id)

    async def _ask(
        self, question: Callable[[str], Awaitable[KeyIntrospection]], about: str
    ) -> KeyInfo | None:
        try:
            answer = await question(about)
        except AuthServiceRejected as exc:
            log.error("auth_service.rejected_us", error=str(exc))
            raise Unavailable("auth-service refused the scheduler's credentials") from exc
        except PlatformError as exc:
            raise Unavailable(f"auth-service did not answer: {exc.message}") from exc
        except AuthClientError:
            return None  # auth-service could not read it as a key at all
        if not answer.active or answer.business_id is None:
            return None
        scopes = frozenset(answer.scopes)
        return KeyInfo(answer.business_id, answer.key_id or "", scopes, answer.event_key)


class AuthServiceIntegrations:
    def __init__(self, client: AuthClient, *, cache_s: float = 0.0) -> None:
        self._client = client
        self._cache_s = cache_s
        self._cache: dict[tuple[str, str], tuple[float, IntegrationInfo]] = {}

    def forget(self, integration_id: str) -> None:
        for key in [k for k in self._cache if k[0] == integration_id]:
            del self._cache[key]

    async def get(self, integration_id: str, business_id: str) -> IntegrationInfo | None:
        key = (integration_id, business_id)
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() < cached[0]:
            return cached[1]
        info = await self._ask(integration_id, business_id)
        if info is not None and self._cache_s > 0:
            if len(self._cache) >= 10_000:
                self._cache.clear()
            self._cache[key] = (time.monotonic() + self._cache_s, info)
        return info

    async def _ask(self, integration_id: str, business_id: str) -> IntegrationInfo | None:
        try:
            info = await self._client.get_integration(integration_id, business_id)
        except IntegrationNotFound:
            return None
        except AuthServiceRejected as exc:
            log.error("auth_service.rejected_us", error=str(exc))
            raise Unavailable("auth-service refused the scheduler's credentials") from exc
        except (PlatformError, AuthClientError) as exc:
            raise Unavailable(f"auth-service could not check integration {integration_id}") from exc
        if info.business_id != business_id:
            return None
        return IntegrationInfo(
            integration_id=info.integration_id,
            business_id=business_id,
            platform=info.platform,
            status=info.status,
            account_name=info.account_name,
        )


def auth_ports(settings: Settings) -> tuple[ApiKeys, Integrations, httpx.AsyncClient]:
    """The auth-service ports over one HTTP client (which the caller closes)."""
    http = httpx.AsyncClient(timeout=settings.auth.timeout_s, transport=traced_transport())
    client = AuthClient(
        http,
        settings.auth.base_url,
        settings.auth.service_token.get_secret_value(),
        introspection_ttl_s=settings.auth.key_cache_s,
    )
    integrations = AuthServiceIntegrations(client, cache_s=settings.auth.integration_cache_s)
    return AuthServiceKeys(client), integrations, http
