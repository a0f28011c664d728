"""`AuthServiceTokens`: the publishers' `TokenSource`, backed by auth-service's internal API
through the shared `herald.authclient.AuthClient` (which caches a token until shortly before it
expires and lets one request per integration through at a time).

`refresh` forces auth-service to refresh; the runtime calls it once after a `NeedsReauth`.
The client's own errors are mapped so the runtime can route them: an integration that no longer
exists fails the post (`Permanent`), an answer this client cannot read is `Transient`. A refusal
of this service's credentials (`AuthServiceRejected`) is a configuration problem and is left to
propagate: the runtime puts the message back rather than failing posts for it.
"""

from __future__ import annotations

import httpx
from pydantic import BaseModel, Field, SecretStr

from herald.authclient import (
    AccessToken,
    AuthClient,
    AuthClientError,
    AuthServiceRejected,
    IntegrationNotFound,
)
from herald.errors import Permanent, Transient
from herald.http import HttpClientSettings
from herald.runtime.ports import Credentials

RECONNECT = "Reconnect the account in Herald, then retry the post."


class AuthServiceSettings(BaseModel):
    """Where auth-service is and how this service proves who it is (`…_AUTH__BASE_URL`)."""

    model_config = {"extra": "forbid"}

    base_url: str = Field(default="http://127.0.0.1:8101", description="auth-service's address.")
    service_token: SecretStr = Field(
        default=SecretStr(""), description="This service's token for auth-service's /internal API."
    )
    token_margin_s: float = Field(
        default=60.0, ge=0, description="A cached token is renewed this long before it expires."
    )
    max_token_cache_s: float = Field(
        default=300.0, gt=0, description="How long any token stays cached at most."
    )
    http: HttpClientSettings = Field(default_factory=HttpClientSettings)

    def client(self, http: httpx.AsyncClient) -> AuthClient:
        """The shared client on `http` (built by `herald.http.new_http_client`)."""
        return AuthClient(
            http,
            self.base_url,
            self.service_token.get_secret_value(),
            token_margin_s=self.token_margin_s,
            max_token_cache_s=self.max_token_cache_s,
        )


class AuthServiceTokens:
    def __init__(self, client: AuthClient) -> None:
        self._client = client

    async def get(self, integration_id: str, business_id: str) -> Credentials:
        try:
            token = await self._client.get_token(integration_id, business_id)
        except AuthClientError as error:
            raise _mapped(error, integration_id) from error
        return credentials_from(token)

    async def refresh(self, integration_id: str, business_id: str) -> Credentials:
        try:
            token = await self._client.force_refresh(integration_id, business_id)
        except AuthClientError as error:
            raise _mapped(error, integration_id) from error
        return credentials_from(token)


def credentials_from(token: AccessToken) -> Credentials:
    """auth-service's token → `Credentials` (`account` holds page_id, ig_user_id, …)."""
    return Credentials(
        access_token=token.access_token.get_secret_value(),
        account_id=token.account_id,
        account=dict(token.account),
        expires_at=token.expires_at,
    )


def _mapped(error: AuthClientError, integration_id: str) -> Exception:
    if isinstance(error, IntegrationNotFound):
        return Permanent(
            f"the integration {integration_id} does not exist (any more)",
            code="integration_not_found",
            remediation=RECONNECT,
        )
    if isinstance(error, AuthServiceRejected):
        return error
    return Transient(f"auth-service's answer could not be used: {error}", code="auth_answer")
