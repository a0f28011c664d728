"""auth-service answers, through `herald.authclient.AuthClient` over `httpx.MockTransport`, map
onto the scheduler's ports: inactive keys are None; an unreachable or refusing auth-service is
`Unavailable`, never "invalid"; another business's integration is None."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from herald.authclient import AuthClient
from herald.events import IntegrationStatus
from herald.topics import Platform
from scheduler.adapters.auth import AuthServiceIntegrations, AuthServiceKeys
from scheduler.errors import Unavailable
from scheduler.ports import KeyInfo

pytestmark = pytest.mark.unit

INTEGRATION: dict[str, Any] = {
    "integration_id": "fb-1",
    "business_id": "biz-a",
    "platform": "facebook",
    "account_id": "page-1",
    "account_name": "Bakery",
    "status": "expiring",
    "expires_at": None,
    "scopes": [],
}


def client_answering(status: int, body: Any) -> tuple[AuthClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return AuthClient(http, "http://auth", "svc-token"), seen


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            200,
            {"active": True, "business_id": "biz-a", "key_id": "k1", "scopes": ["posts:read"]},
            KeyInfo("biz-a", "k1", frozenset({"posts:read"})),
        ),
        (200, {"active": False}, None),
        (422, {"error": "invalid_request", "message": "too long"}, None),
    ],
)
async def test_introspection_answers(status: int, body: Any, expected: KeyInfo | None) -> None:
    client, seen = client_answering(status, body)
    assert await AuthServiceKeys(client).introspect("hk_k1_secret") == expected
    assert seen[0].headers["authorization"] == "Bearer svc-token"


@pytest.mark.parametrize("status", [401, 403, 429, 500, 503])
async def test_auth_service_trouble_is_unavailable(status: int) -> None:
    client, _ = client_answering(status, {"error": "x", "message": "y"})
    with pytest.raises(Unavailable):
        await AuthServiceKeys(client).introspect("hk_k1_secret")
    with pytest.raises(Unavailable):
        await AuthServiceIntegrations(client).get("fb-1", "biz-a")


async def test_unreachable_auth_service_is_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    with pytest.raises(Unavailable):
        await AuthServiceKeys(AuthClient(http, "http://auth", "t")).introspect("hk_a_b")


@pytest.mark.parametrize(
    ("status", "body", "business", "check"),
    [
        (200, INTEGRATION, "biz-a", lambda i: i.status is IntegrationStatus.EXPIRING),
        (200, INTEGRATION, "biz-b", lambda i: i is None),
        (404, {"error": "not_found", "message": "no"}, "biz-a", lambda i: i is None),
    ],
)
async def test_integration_answers(
    status: int, body: Any, business: str, check: Callable[[Any], bool]
) -> None:
    client, seen = client_answering(status, body)
    info = await AuthServiceIntegrations(client).get("fb-1", business)
    assert check(info)
    assert seen[0].url.params["business_id"] == business
    if info is not None:
        assert info.platform is Platform.FACEBOOK
        assert info.account_name == "Bakery"


async def test_an_integration_is_asked_once_within_its_cache_time_and_again_after_forget() -> None:
    client, seen = client_answering(200, INTEGRATION)
    integrations = AuthServiceIntegrations(client, cache_s=60)
    first = await integrations.get("fb-1", "biz-a")
    again = await integrations.get("fb-1", "biz-a")
    assert first == again
    assert len(seen) == 1
    other_business = await integrations.get("fb-1", "biz-b")  # cached per business
    assert other_business is None
    assert len(seen) == 2
    integrations.forget("fb-1")  # integration.events said it changed
    await integrations.get("fb-1", "biz-a")
    assert len(seen) == 3


async def test_an_unknown_integration_is_not_remembered() -> None:
    client, seen = client_answering(404, {"error": "not_found", "message": "no"})
    integrations = AuthServiceIntegrations(client, cache_s=60)
    assert await integrations.get("fb-1", "biz-a") is None
    assert await integrations.get("fb-1", "biz-a") is None  # connected since? ask again
    assert len(seen) == 2


async def test_without_a_cache_time_every_get_asks() -> None:
    client, seen = client_answering(200, INTEGRATION)
    integrations = AuthServiceIntegrations(client)
    await integrations.get("fb-1", "biz-a")
    await integrations.get("fb-1", "biz-a")
    assert len(seen) == 2


TEMPLATES = {
    "templates": [
        {"name": "order_update", "language": "en_US", "status": "APPROVED", "body_params": 2}
    ]
}


async def test_templates_are_kept_and_asked_again_only_when_stale_enough() -> None:
    client, seen = client_answering(200, TEMPLATES)
    integrations = AuthServiceIntegrations(client, template_cache_s=300, template_refresh_s=0)
    first = await integrations.templates("wa-1", "biz-a")
    kept = await integrations.templates("wa-1", "biz-a")
    assert first == kept
    assert first is not None
    assert [(t.name, t.body_params) for t in first] == [("order_update", 2)]
    assert len(seen) == 1
    assert seen[0].url.path.endswith("/wa-1/whatsapp-templates")
    await integrations.templates("wa-1", "biz-a", fresh=True)  # a post named one it lacks
    assert len(seen) == 2
    held = AuthServiceIntegrations(client, template_cache_s=300, template_refresh_s=300)
    await held.templates("wa-1", "biz-a")
    await held.templates("wa-1", "biz-a", fresh=True)  # a miss right after a read: asks again
    await held.templates("wa-1", "biz-a", fresh=True)  # another miss moments later: not again
    assert len(seen) == 4


async def test_templates_that_cannot_be_listed_are_not_checked() -> None:
    client, _ = client_answering(503, {"error": "provider_unavailable", "message": "down"})
    assert await AuthServiceIntegrations(client).templates("wa-1", "biz-a") is None
