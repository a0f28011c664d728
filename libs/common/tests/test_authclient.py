"""`herald.authclient` over `httpx.MockTransport`: answers, caching and error classes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from herald.authclient import (
    AccessToken,
    AuthClient,
    AuthClientError,
    AuthServiceRejected,
    IntegrationNotFound,
)
from herald.errors import HeraldError, NeedsReauth, Throttled, Transient
from herald.events import IntegrationStatus
from herald.topics import Platform

pytestmark = pytest.mark.unit

NOW = 1_790_000_000.0
BASE = "http://auth.test"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


def _token_body(expires_at: datetime | None, value: str = "act.1") -> dict[str, object]:
    return {
        "access_token": value,
        "token_type": "bearer",
        "expires_at": expires_at.isoformat() if expires_at else None,
        "platform": "tiktok",
        "account_id": "-000a",
        "account": {"open_id": "-000a"},
        "scopes": ["video.publish"],
    }


Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, seen: list[httpx.Request], clock: Clock | None = None) -> AuthClient:
    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(record))
    return AuthClient(http, BASE + "/", "svc-token", clock=clock or Clock())


async def test_get_token_is_cached_until_shortly_before_expiry() -> None:
    clock = Clock()
    expires = datetime.fromtimestamp(NOW, UTC) + timedelta(hours=2)
    seen: list[httpx.Request] = []
    client = _client(lambda r: httpx.Response(200, json=_token_body(expires)), seen, clock)

    first = await client.get_token("int_1", "biz_1")
    second = await client.get_token("int_1", "biz_1")
    assert isinstance(first, AccessToken)
    assert first.access_token.get_secret_value() == "act.1"
    assert "act.1" not in repr(first)
    assert first is second
    assert len(seen) == 1
    assert str(seen[0].url) == f"{BASE}/internal/v1/integrations/int_1/token?business_id=biz_1"
    assert seen[0].headers["authorization"] == "Bearer svc-token"

    clock.now = NOW + 2 * 3600 - 30  # within the 60 s margin
    await client.get_token("int_1", "biz_1")
    assert len(seen) == 2


async def test_a_token_without_expiry_is_cached_for_the_maximum_only() -> None:
    clock = Clock()
    seen: list[httpx.Request] = []
    client = _client(lambda r: httpx.Response(200, json=_token_body(None)), seen, clock)
    await client.get_token("int_1", "biz_1")
    clock.now = NOW + 299
    await client.get_token("int_1", "biz_1")
    clock.now = NOW + 301
    await client.get_token("int_1", "biz_1")
    assert len(seen) == 2


async def test_force_refresh_replaces_the_cached_token() -> None:
    expires = datetime.fromtimestamp(NOW, UTC) + timedelta(hours=2)
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        token = "act.2" if request.method == "POST" else "act.1"
        return httpx.Response(200, json=_token_body(expires, token))

    client = _client(answer, seen)
    await client.get_token("int_1", "biz_1")
    refreshed = await client.force_refresh("int_1", "biz_1")
    again = await client.get_token("int_1", "biz_1")
    assert refreshed.access_token.get_secret_value() == "act.2"
    assert again.access_token.get_secret_value() == "act.2"
    assert [r.method for r in seen] == ["GET", "POST"]
    assert seen[1].url.path == "/internal/v1/integrations/int_1/refresh"


async def test_introspection_is_cached_briefly() -> None:
    clock = Clock()
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        key = json.loads(request.content)["key"]
        if key == "hk_good":
            body = {
                "active": True,
                "business_id": "biz_1",
                "key_id": "k",
                "scopes": ["posts:write"],
            }
            return httpx.Response(200, json=body)
        return httpx.Response(200, json={"active": False})

    client = _client(answer, seen, clock)
    good = await client.introspect("hk_good")
    bad = await client.introspect("hk_bad")
    assert good.active
    assert good.business_id == "biz_1"
    assert good.scopes == ["posts:write"]
    assert not bad.active
    await client.introspect("hk_good")
    await client.introspect("hk_bad")
    assert len(seen) == 2
    clock.now = NOW + 0.4  # active answers are kept 0.5 s (a revocation shows that soon)
    await client.introspect("hk_good")
    assert len(seen) == 2
    clock.now = NOW + 0.6
    await client.introspect("hk_good")
    await client.introspect("hk_bad")
    assert len(seen) == 3
    clock.now = NOW + 6  # inactive answers are kept 5 s
    await client.introspect("hk_bad")
    assert len(seen) == 4


async def test_concurrent_questions_about_one_key_share_one_call() -> None:
    seen: list[httpx.Request] = []
    release = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        await release.wait()
        return httpx.Response(200, json={"active": True, "business_id": "biz_1", "key_id": "k"})

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    client = AuthClient(http, BASE, "svc-token", clock=Clock())
    waiting = [asyncio.create_task(client.introspect("hk_same")) for _ in range(20)]
    waiting.append(asyncio.create_task(client.introspect("hk_other")))
    await asyncio.sleep(0.05)
    release.set()
    answers = await asyncio.gather(*waiting)
    assert len(seen) == 2
    assert {a.business_id for a in answers} == {"biz_1"}


async def test_a_key_is_looked_up_by_id_with_its_event_key() -> None:
    clock = Clock()
    seen: list[httpx.Request] = []
    body = {
        "active": True,
        "business_id": "biz_1",
        "key_id": "0123456789abcdef",
        "scopes": ["posts:write"],
        "event_key": "pub",
    }
    client = _client(lambda r: httpx.Response(200, json=body), seen, clock)
    found = await client.lookup_key("0123456789abcdef")
    await client.lookup_key("0123456789abcdef")
    assert found.event_key == "pub"
    assert len(seen) == 1
    assert seen[0].url.path == "/internal/v1/api-keys/lookup"
    assert json.loads(seen[0].content) == {"key_id": "0123456789abcdef"}
    clock.now = NOW + 0.6
    await client.lookup_key("0123456789abcdef")
    assert len(seen) == 2


async def test_remembered_keys_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("herald.authclient.MAX_CACHED_KEYS", 3)
    seen: list[httpx.Request] = []
    client = _client(lambda r: httpx.Response(200, json={"active": False}), seen)
    for n in range(4):  # unknown keys, kept 5 s each: the fourth makes room by forgetting
        await client.introspect(f"hk_unknown_{n}")
    await client.introspect("hk_unknown_0")
    assert len(seen) == 5


async def test_get_integration() -> None:
    body = {
        "integration_id": "int_1",
        "business_id": "biz_1",
        "platform": "facebook",
        "account_id": "110",
        "account_name": "Bakery",
        "status": "expiring",
        "expires_at": None,
        "scopes": ["pages_manage_posts"],
    }
    client = _client(lambda r: httpx.Response(200, json=body), [])
    info = await client.get_integration("int_1", "biz_1")
    assert info.platform is Platform.FACEBOOK
    assert info.status is IntegrationStatus.EXPIRING


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (409, {"error": "needs_reauth", "message": "m", "status": "expired"}, NeedsReauth),
        (404, {"error": "not_found", "message": "no integration"}, IntegrationNotFound),
        (401, {"error": "unauthorized", "message": "m"}, AuthServiceRejected),
        (403, {"error": "forbidden", "message": "m"}, AuthServiceRejected),
        (429, {"error": "slow_down", "message": "m"}, Throttled),
        (500, {"error": "boom", "message": "m"}, Transient),
        (503, {"error": "refresh_in_progress", "message": "m"}, Transient),
        (502, "<html>bad gateway</html>", Transient),
        (400, {"error": "bad_request", "message": "m"}, AuthClientError),
        (200, {"unexpected": True}, AuthClientError),
    ],
)
async def test_errors_are_classified(
    status: int, body: object, expected: type[HeraldError]
) -> None:
    def answer(_: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body)

    client = _client(answer, [])
    with pytest.raises(expected) as caught:
        await client.get_token("int_1", "biz_1")
    if expected is NeedsReauth:
        assert isinstance(caught.value, NeedsReauth)
        assert caught.value.evidence == {"status": "expired"}


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")],
    ids=["connect", "timeout"],
)
async def test_transport_failures_are_transient(failure: Exception) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise failure

    client = _client(answer, [])
    with pytest.raises(Transient):
        await client.force_refresh("int_1", "biz_1")


async def test_concurrent_get_token_calls_share_one_request() -> None:
    expires = datetime.fromtimestamp(NOW, UTC) + timedelta(hours=2)
    seen: list[httpx.Request] = []
    client = _client(lambda r: httpx.Response(200, json=_token_body(expires)), seen)
    tokens = await asyncio.gather(*(client.get_token("int_1", "biz_1") for _ in range(10)))
    assert {t.access_token.get_secret_value() for t in tokens} == {"act.1"}
    assert len(seen) == 1
