"""auth-service through `herald.authclient.AuthClient`: API-key introspection (the client caches
answers briefly) and integration checks, as this service's `ApiKeys` and `Integrations` ports.

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

import structlog

from herald.authclient import AuthClient, AuthClientError, AuthServiceRejected, IntegrationNotFound
from herald.errors import PlatformError
from scheduler.errors import Unavailable
from scheduler.ports import IntegrationInfo, KeyInfo

log = structlog.get_logger(__name__)


class AuthServiceKeys:
    def __init__(self, client: AuthClient) -> None:
        self._client = client

    async def introspect(self, key: str) -> KeyInfo | None:
        try:
            answer = await self._client.introspect(key)
        except AuthServiceRejected as exc:
            log.error("auth_service.rejected_us", error=str(exc))
            raise Unavailable("auth-service refused the scheduler's credentials") from exc
        except PlatformError as exc:
            raise Unavailable(f"auth-service did not answer: {exc.message}") from exc
        except AuthClientError:
            return None  # auth-service could not read it as a key at all
        if not answer.active or answer.business_id is None:
            return None
        return KeyInfo(answer.business_id, answer.key_id or "", frozenset(answer.scopes))


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
