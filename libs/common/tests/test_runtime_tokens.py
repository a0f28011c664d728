"""`AuthServiceTokens`: cached until shortly before expiry, a forced refresh replaces the cache;
`AuthServiceHttp` maps auth-service's answers onto the taxonomy (through MockTransport)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from herald.errors import NeedsReauth, Permanent, PlatformError, Transient
from herald.runtime.tokens import (
    AuthServiceHttp,
    AuthServiceSettings,
    AuthServiceTokens,
    credentials_from,
)

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@dataclass
class FakeClient:
    expires_in_s: float | None = 3600.0
    gets: int = 0
    refreshes: int = 0
    asked: list[tuple[str, str]] = field(default_factory=list)

    def _answer(self, n: int) -> dict[str, Any]:
        expires = None if self.expires_in_s is None else NOW + timedelta(seconds=self.expires_in_s)
        return {
            "access_token": f"tok-{n}",
            "expires_at": expires.isoformat() if expires else None,
            "platform": "facebook",
            "account_id": "page-1",
            "account": {"page_id": "page-1", "ig_user_id": None},
            "scopes": ["pages_manage_posts"],
        }

    async def get_token(self, integration_id: str, business_id: str) -> Mapping[str, Any]:
        self.gets += 1
        self.asked.append((integration_id, business_id))
        return self._answer(self.gets + self.refreshes)

    async def force_refresh(self, integration_id: str, business_id: str) -> Mapping[str, Any]:
        self.refreshes += 1
        return self._answer(self.gets + self.refreshes)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def test_a_token_is_cached_until_the_margin_before_it_expires() -> None:
    client, clock = FakeClient(expires_in_s=3600), Clock()
    tokens = AuthServiceTokens(client, margin_s=300, clock=clock)

    first = await tokens.get("i1", "b1")
    clock.now = NOW + timedelta(seconds=3299)
    cached = await tokens.get("i1", "b1")
    clock.now = NOW + timedelta(seconds=3300)
    renewed = await tokens.get("i1", "b1")

    assert (first.access_token, cached.access_token, renewed.access_token) == (
        "tok-1",
        "tok-1",
        "tok-2",
    )
    assert client.asked == [("i1", "b1"), ("i1", "b1")]
    assert first.account == {"page_id": "page-1"}
    assert first.expires_at == NOW + timedelta(hours=1)


async def test_a_token_without_expiry_is_kept_for_max_age() -> None:
    client, clock = FakeClient(expires_in_s=None), Clock()
    tokens = AuthServiceTokens(client, max_age_s=600, clock=clock)

    await tokens.get("i1", "b1")
    clock.now = NOW + timedelta(seconds=599)
    await tokens.get("i1", "b1")
    clock.now = NOW + timedelta(seconds=600)
    await tokens.get("i1", "b1")

    assert client.gets == 2


async def test_refresh_forces_a_new_token_and_replaces_the_cached_one() -> None:
    client, clock = FakeClient(), Clock()
    tokens = AuthServiceTokens(client, clock=clock)
    await tokens.get("i1", "b1")

    refreshed = await tokens.refresh("i1", "b1")
    after = await tokens.get("i1", "b1")

    assert refreshed.access_token == after.access_token == "tok-2"
    assert (client.gets, client.refreshes) == (1, 1)


def test_credentials_read_every_expiry_form() -> None:
    base = {"access_token": "t", "account_id": "a"}
    epoch = credentials_from({**base, "expires_at": NOW.timestamp()})
    text = credentials_from({**base, "expires_at": "2026-11-26T12:00:00Z"})
    naive = credentials_from({**base, "expires_at": datetime(2026, 11, 26, 12, 0)})  # noqa: DTZ001 - a naive time as a client might send
    assert epoch.expires_at == text.expires_at == naive.expires_at == NOW
    assert credentials_from(base).expires_at is None


def answering(status: int, body: Any = None) -> tuple[AuthServiceHttp, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body if body is not None else {"detail": "x"})

    settings = AuthServiceSettings(
        base_url="http://auth.test/", service_token=SecretStr("svc-secret")
    )
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AuthServiceHttp(http, settings), seen


async def test_the_http_client_asks_the_internal_routes_with_its_service_token() -> None:
    client, seen = answering(200, {"access_token": "t"})

    await client.get_token("i1", "b1")
    await client.force_refresh("i1", "b1")

    get, refresh = seen
    assert (get.method, get.url.path) == ("GET", "/internal/v1/integrations/i1/token")
    assert (refresh.method, refresh.url.path) == ("POST", "/internal/v1/integrations/i1/refresh")
    assert get.url.params["business_id"] == "b1"
    assert get.headers["authorization"] == "Bearer svc-secret"


@pytest.mark.parametrize(
    ("status", "expected"),
    [(409, NeedsReauth), (503, Transient), (429, Transient), (404, Permanent), (403, Permanent)],
)
async def test_auth_service_errors_are_classified(
    status: int, expected: type[PlatformError]
) -> None:
    client, _ = answering(status)
    with pytest.raises(expected):
        await client.get_token("i1", "b1")


async def test_an_unreachable_auth_service_is_transient() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    client = AuthServiceHttp(http, AuthServiceSettings())
    with pytest.raises(Transient):
        await client.force_refresh("i1", "b1")
