"""`AuthServiceTokens` over the shared `AuthClient`, driven through `httpx.MockTransport`:
credentials as the flows need them, a forced refresh, and auth-service's errors routed so the
runtime can act on them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from herald.authclient import AuthServiceRejected
from herald.errors import NeedsReauth, Permanent, PlatformError, Transient
from herald.runtime.tokens import AuthServiceSettings, AuthServiceTokens

pytestmark = pytest.mark.unit

EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


def token_body(n: int) -> dict[str, Any]:
    return {
        "access_token": f"tok-{n}",
        "token_type": "bearer",
        "expires_at": EXPIRES.isoformat(),
        "platform": "instagram",
        "account_id": "17841400000000001",
        "account": {"page_id": "110000000000001", "ig_user_id": "17841400000000001"},
        "scopes": ["instagram_content_publish"],
    }


class AuthService:
    """auth-service's two token routes, answering `status` (200: a fresh token each time)."""

    def __init__(self, status: int = 200, body: dict[str, Any] | None = None) -> None:
        self.status = status
        self.body = body
        self.requests: list[httpx.Request] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status != 200:
            return httpx.Response(self.status, json=self.body or {})
        return httpx.Response(200, json=token_body(len(self.requests)))

    def tokens(self) -> AuthServiceTokens:
        settings = AuthServiceSettings(
            base_url="http://auth.test", service_token=SecretStr("svc-secret")
        )
        http = httpx.AsyncClient(transport=httpx.MockTransport(self.handler))
        return AuthServiceTokens(settings.client(http))


async def test_get_gives_credentials_with_the_account_ids_and_is_cached() -> None:
    service = AuthService()
    tokens = service.tokens()

    first = await tokens.get("i1", "b1")
    again = await tokens.get("i1", "b1")

    assert first == again
    assert first.access_token == "tok-1"
    assert first.account_id == "17841400000000001"
    assert first.account["ig_user_id"] == "17841400000000001"
    assert first.expires_at == EXPIRES
    [request] = service.requests  # the second get came from the client's cache
    assert request.url.path == "/internal/v1/integrations/i1/token"
    assert request.url.params["business_id"] == "b1"
    assert request.headers["authorization"] == "Bearer svc-secret"


async def test_refresh_forces_a_new_token_that_later_gets_reuse() -> None:
    service = AuthService()
    tokens = service.tokens()
    await tokens.get("i1", "b1")

    refreshed = await tokens.refresh("i1", "b1")
    after = await tokens.get("i1", "b1")

    assert refreshed.access_token == after.access_token == "tok-2"
    assert [r.method for r in service.requests] == ["GET", "POST"]
    assert service.requests[1].url.path == "/internal/v1/integrations/i1/refresh"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (409, {"error": "needs_reauth", "message": "the integration expired"}, NeedsReauth),
        (404, {"error": "not_found", "message": "no such integration"}, Permanent),
        (503, {"error": "unavailable", "message": "try later"}, Transient),
        (418, {"error": "teapot", "message": "unexpected"}, Transient),
    ],
)
async def test_auth_service_errors_are_routed(
    status: int, body: dict[str, Any], expected: type[PlatformError]
) -> None:
    tokens = AuthService(status, body).tokens()

    with pytest.raises(expected):
        await tokens.get("i1", "b1")
    with pytest.raises(expected):
        await tokens.refresh("i1", "b1")


async def test_rejected_service_credentials_are_not_a_post_failure() -> None:
    tokens = AuthService(403, {"error": "forbidden", "message": "wrong service"}).tokens()

    with pytest.raises(AuthServiceRejected):
        await tokens.get("i1", "b1")
