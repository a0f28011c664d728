"""`AuthServiceTokens`: the publishers' `TokenSource`, backed by auth-service's internal API.

A token is cached per integration until `margin_s` before it expires (a token without an expiry,
such as a Page token, until `max_age_s` passed), so a busy publisher asks auth-service once per
account, not once per post. `refresh` forces auth-service to refresh (the runtime calls it once
after a `NeedsReauth`) and replaces the cached token. Errors are auth-service's, already
classified into `herald.errors` by its client (409 → `NeedsReauth`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import httpx
from pydantic import BaseModel, Field, SecretStr

from herald.errors import NeedsReauth, Permanent, Transient
from herald.http import HttpClientSettings
from herald.runtime.ports import Credentials


class AuthServiceSettings(BaseModel):
    """Where auth-service is and how this service proves who it is (`…_AUTH__BASE_URL`)."""

    model_config = {"extra": "forbid"}

    base_url: str = Field(default="http://127.0.0.1:8101", description="auth-service's address.")
    service_token: SecretStr | None = Field(
        default=None, description="This service's token for auth-service's /internal API."
    )
    margin_s: float = Field(
        default=300.0, ge=0, description="A cached token is renewed this long before it expires."
    )
    max_age_s: float = Field(
        default=3600.0, gt=0, description="How long a token without an expiry stays cached."
    )
    http: HttpClientSettings = Field(default_factory=HttpClientSettings)


class TokenClient(Protocol):
    """What `AuthServiceTokens` asks auth-service (`herald.authclient.AuthClient`)."""

    async def get_token(self, integration_id: str, business_id: str) -> Mapping[str, Any]: ...

    async def force_refresh(self, integration_id: str, business_id: str) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class _Cached:
    credentials: Credentials
    renew_at: datetime


class AuthServiceTokens:
    def __init__(
        self,
        client: TokenClient,
        *,
        margin_s: float = 300.0,
        max_age_s: float = 3600.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._margin = timedelta(seconds=margin_s)
        self._max_age = timedelta(seconds=max_age_s)
        self._clock = clock
        self._cache: dict[tuple[str, str], _Cached] = {}

    async def get(self, integration_id: str, business_id: str) -> Credentials:
        key = (integration_id, business_id)
        cached = self._cache.get(key)
        if cached is not None and self._clock() < cached.renew_at:
            return cached.credentials
        return self._keep(key, await self._client.get_token(integration_id, business_id))

    async def refresh(self, integration_id: str, business_id: str) -> Credentials:
        key = (integration_id, business_id)
        self._cache.pop(key, None)
        return self._keep(key, await self._client.force_refresh(integration_id, business_id))

    def _keep(self, key: tuple[str, str], answer: Mapping[str, Any]) -> Credentials:
        credentials = credentials_from(answer)
        now = self._clock()
        renew_at = now + self._max_age
        if credentials.expires_at is not None:
            renew_at = min(renew_at, credentials.expires_at - self._margin)
        self._cache[key] = _Cached(credentials, renew_at)
        return credentials


def credentials_from(answer: Mapping[str, Any]) -> Credentials:
    """auth-service's token answer → `Credentials` (`account` holds page_id, ig_user_id, …)."""
    account = answer.get("account") or {}
    return Credentials(
        access_token=str(answer["access_token"]),
        account_id=str(answer.get("account_id") or ""),
        account={str(k): str(v) for k, v in dict(account).items() if v is not None},
        expires_at=_moment(answer.get("expires_at")),
    )


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value)  # 3.11 reads a trailing Z
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    return None


class AuthServiceHttp:
    """A `TokenClient` over auth-service's `/internal/v1` token routes.

    Stands in until the shared `herald.authclient.AuthClient` lands; it speaks the same two
    calls. 409 (the integration needs the user again) is `NeedsReauth`, 5xx and network failures
    `Transient`, anything else `Permanent`.
    """

    def __init__(self, http: httpx.AsyncClient, settings: AuthServiceSettings) -> None:
        self._http = http
        self._base = settings.base_url.rstrip("/")
        token = settings.service_token
        self._headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}

    async def get_token(self, integration_id: str, business_id: str) -> Mapping[str, Any]:
        return await self._call(
            "GET", f"/internal/v1/integrations/{integration_id}/token", business_id
        )

    async def force_refresh(self, integration_id: str, business_id: str) -> Mapping[str, Any]:
        path = f"/internal/v1/integrations/{integration_id}/refresh"
        return await self._call("POST", path, business_id)

    async def _call(self, method: str, path: str, business_id: str) -> Mapping[str, Any]:
        url = f"{self._base}{path}"
        try:
            response = await self._http.request(
                method, url, params={"business_id": business_id}, headers=self._headers
            )
        except httpx.HTTPError as exc:
            raise Transient(f"auth-service unreachable ({type(exc).__name__})") from exc
        if response.status_code == 200:
            body: Mapping[str, Any] = response.json()
            return body
        message = f"auth-service answered {response.status_code}: {response.text[:200]}"
        if response.status_code == 409:
            raise NeedsReauth(message, code="integration_expired", remediation=_RECONNECT)
        if response.status_code >= 500 or response.status_code == 429:
            raise Transient(message, http_status=response.status_code)
        raise Permanent(
            message, code=f"auth_{response.status_code}", http_status=response.status_code
        )


_RECONNECT = "Reconnect the account in Herald (log in again and grant the permissions asked for)."


def auth_service_tokens(
    http: httpx.AsyncClient, settings: AuthServiceSettings
) -> AuthServiceTokens:
    """The token source a publisher uses unless a test passes its own."""
    client = AuthServiceHttp(http, settings)
    return AuthServiceTokens(client, margin_s=settings.margin_s, max_age_s=settings.max_age_s)
