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

A WhatsApp account's registered templates (ADR 0018) are kept `template_cache_s` (5 minutes by
default) and asked again when a post names one the copy does not know or counts differently (a
template approved or edited since), unless such a re-ask happened within `template_refresh_s`
(10 s: a client repeating a wrong name does not hammer the platform). When they cannot be
listed (auth-service or WhatsApp away), the check is skipped: the send still catches 132001.
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
from herald.whatsapp_registry import RegisteredTemplate
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
    def __init__(
        self,
        client: AuthClient,
        *,
        cache_s: float = 0.0,
        template_cache_s: float = 300.0,
        template_refresh_s: float = 10.0,
    ) -> None:
        self._client = client
        self._cache_s = cache_s
        self._cache: dict[tuple[str, str], tuple[float, IntegrationInfo]] = {}
        self._template_cache_s = template_cache_s
        self._template_refresh_s = template_refresh_s
        # (integration, business) -> (asked at, monotonic; the templates)
        self._templates: dict[tuple[str, str], tuple[float, list[RegisteredTemplate]]] = {}
        self._reasked: dict[tuple[str, str], float] = {}  # when a miss last asked again

    def forget(self, integration_id: str) -> None:
        for key in [k for k in self._cache if k[0] == integration_id]:
            del self._cache[key]
        for key in [k for k in self._templates if k[0] == integration_id]:
            del self._templates[key]

    async def templates(
        self, integration_id: str, business_id: str, *, fresh: bool = False
    ) -> list[RegisteredTemplate] | None:
        key = (integration_id, business_id)
        now = time.monotonic()
        cached = self._templates.get(key)
        if cached is not None:
            if fresh:
                recently = now - self._reasked.get(key, -1e9) < self._template_refresh_s
                if recently:
                    return cached[1]
                self._reasked[key] = now
            elif now - cached[0] < self._template_cache_s:
                return cached[1]
        try:
            listed = await self._client.whatsapp_templates(integration_id, business_id)
        except (PlatformError, AuthClientError) as exc:
            log.warning(
                "whatsapp.templates_unavailable", integration_id=integration_id, error=str(exc)
            )
            return None if cached is None else cached[1]
        if len(self._templates) >= 10_000:
            self._templates.clear()
            self._reasked.clear()
        self._templates[key] = (now, listed)
        return listed

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
