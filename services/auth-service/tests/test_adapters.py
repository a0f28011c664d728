"""Platform adapters over `httpx.MockTransport`: how each answer is classified, and what the
requests carry (appsecret_proof, tokens in headers, never in URLs)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from auth_service.adapters.clock import SystemClock
from auth_service.adapters.graph import MetaApp
from auth_service.adapters.http import graph_json, tiktok_json
from auth_service.adapters.tiktok import TikTokGateway
from auth_service.domain import AuthServer, Integration, RefreshMode, SecretField
from herald.errors import NeedsReauth, Permanent, PlatformError, Throttled, Transient
from herald.events import IntegrationStatus
from herald.topics import Platform

pytestmark = pytest.mark.unit


def _graph(status: int, error: dict[str, object]) -> httpx.Response:
    return httpx.Response(status, json={"error": error})


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (400, {"code": 190, "error_subcode": 463, "type": "OAuthException"}, NeedsReauth),
        (400, {"code": 10, "type": "OAuthException"}, NeedsReauth),
        (403, {"code": 200}, NeedsReauth),
        (400, {"code": 4}, Throttled),
        (400, {"code": 80001}, Throttled),
        (400, {"code": 2, "is_transient": True}, Transient),
        (500, {"code": 1}, Transient),
        (503, {}, Transient),
        (400, {"code": 100, "error_subcode": 36009}, Permanent),
        (400, {"type": "OAuthException"}, NeedsReauth),
    ],
)
def test_graph_errors(status: int, error: dict[str, object], expected: type[PlatformError]) -> None:
    with pytest.raises(expected):
        graph_json(_graph(status, error))


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            {"error": "invalid_grant", "error_description": "Refresh token is invalid"},
            NeedsReauth,
        ),
        (401, {"data": {}, "error": {"code": "access_token_invalid", "message": ""}}, NeedsReauth),
        (429, {"data": {}, "error": {"code": "rate_limit_exceeded", "message": ""}}, Throttled),
        (500, {"data": {}, "error": {"code": "internal_error", "message": ""}}, Transient),
        (401, {"error": "invalid_client", "error_description": "bad secret"}, Permanent),
        (502, {}, Transient),
    ],
)
def test_tiktok_errors(status: int, body: dict[str, object], expected: type[PlatformError]) -> None:
    with pytest.raises(expected):
        tiktok_json(httpx.Response(status, json=body))


def test_tiktok_success_shapes() -> None:
    ok = {"data": {"user": {"open_id": "x"}}, "error": {"code": "ok", "message": ""}}
    assert tiktok_json(httpx.Response(200, json=ok))["data"]["user"]["open_id"] == "x"
    token = {"access_token": "act.1", "refresh_token": "rft.1"}
    assert tiktok_json(httpx.Response(200, json=token))["access_token"] == "act.1"


Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, seen: list[httpx.Request]) -> httpx.AsyncClient:
    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(record))


async def test_graph_calls_carry_the_token_in_a_header_and_a_proof() -> None:
    seen: list[httpx.Request] = []
    client = _client(lambda r: httpx.Response(200, json={"id": "1", "name": "A"}), seen)
    app = MetaApp(
        client, SystemClock(), "https://graph.test", "https://www.test", "v23.0", "1", "s"
    )
    await app.get("me", "EAAB-user-token", {"fields": "id,name"})
    (request,) = seen
    assert request.headers["authorization"] == "Bearer EAAB-user-token"
    assert "EAAB-user-token" not in str(request.url)
    query = parse_qs(urlsplit(str(request.url)).query)
    assert query["appsecret_proof"] == [app.proof("EAAB-user-token")]


async def test_code_exchange_posts_secrets_in_the_body() -> None:
    seen: list[httpx.Request] = []
    body = {"access_token": "EAAB-short", "token_type": "bearer", "expires_in": 3600}
    client = _client(lambda r: httpx.Response(200, json=body), seen)
    app = MetaApp(
        client, SystemClock(), "https://graph.test", "https://www.test", "v23.0", "1", "s3"
    )
    lived = await app.exchange_code("the-code", "https://auth.test/cb", None)
    assert lived.token == "EAAB-short"
    assert lived.expires_at is not None
    (request,) = seen
    assert request.method == "POST"
    assert "s3" not in str(request.url)
    assert "the-code" not in str(request.url)
    form = parse_qs(request.content.decode())
    assert form["client_secret"] == ["s3"]
    assert form["code"] == ["the-code"]


def _tiktok(handler: Handler, seen: list[httpx.Request]) -> TikTokGateway:
    return TikTokGateway(
        http=_client(handler, seen),
        clock=SystemClock(),
        authorize_url="https://www.tiktok.test",
        api_url="https://open.tiktok.test",
        client_key="ck",
        client_secret="cs",
        scopes=["video.publish"],
        pkce=True,
    )


def _integration() -> Integration:
    return Integration(
        id="int_1",
        business_id="biz_1",
        platform=Platform.TIKTOK,
        account_id="-000a",
        account_name=None,
        account={"open_id": "-000a"},
        scopes=(),
        status=IntegrationStatus.ACTIVE,
        mode=RefreshMode.ROTATE,
        auth_server=AuthServer.TIKTOK,
        provider_user_id="-000a",
        secrets={},
        connected_at=datetime.now(UTC),
    )


async def test_tiktok_refresh_keeps_the_refresh_token_when_none_comes_back() -> None:
    seen: list[httpx.Request] = []
    answer = {"access_token": "act.new", "expires_in": 7200, "refresh_token": "", "scope": "a,b"}
    gateway = _tiktok(lambda r: httpx.Response(200, json=answer), seen)
    tokens = {SecretField.ACCESS: "act.old", SecretField.REFRESH: "rft.old"}
    grant = await gateway.refresh(_integration(), tokens)
    assert grant.access_token == "act.new"
    assert grant.refresh_token is None  # the handler keeps the stored one
    form = parse_qs(seen[0].content.decode())
    assert form["grant_type"] == ["refresh_token"]
    assert form["refresh_token"] == ["rft.old"]


async def test_tiktok_network_failure_is_transient() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    gateway = _tiktok(fail, [])
    tokens = {SecretField.ACCESS: "a", SecretField.REFRESH: "r"}
    with pytest.raises(Transient):
        await gateway.refresh(_integration(), tokens)


async def test_tiktok_invalid_grant_needs_reauth() -> None:
    body = {"error": "invalid_grant", "error_description": "Refresh token is invalid or expired."}
    gateway = _tiktok(lambda r: httpx.Response(400, json=body), [])
    tokens = {SecretField.ACCESS: "a", SecretField.REFRESH: "r"}
    with pytest.raises(NeedsReauth) as caught:
        await gateway.refresh(_integration(), tokens)
    assert caught.value.code == "invalid_grant"
    assert json.dumps(body) not in repr(caught.value)
