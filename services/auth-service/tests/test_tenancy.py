"""Every business-scoped route answers 404 for another business's ids and 401 without a key or
with a revoked one; internal routes check service credentials and roles."""

from __future__ import annotations

from typing import Any

import pytest

from auth_service.handlers.keys import create_api_key, revoke_api_key
from auth_service.testing import World, WorldFactory, through_start_link
from herald.producerauth import parse, sign, verifies

pytestmark = pytest.mark.connected

ROUTES = [
    ("GET", "/v1/integrations/{id}"),
    ("POST", "/v1/integrations/{id}/refresh"),
    ("DELETE", "/v1/integrations/{id}"),
]
SCHEDULER = {"Authorization": "Bearer sched-" + "a1b2c3d4" * 5}
PUBLISHER = {"Authorization": "Bearer pubtt-" + "e5f6a7b8" * 5}


async def _two_businesses(make_world: WorldFactory) -> tuple[World, World, str]:
    owner = await make_world()
    intruder = await make_world(owner.components)
    integration = (await owner.connect("tiktok"))[0]["integration_id"]
    return owner, intruder, integration


async def test_another_business_gets_404_everywhere(make_world: WorldFactory) -> None:
    owner, intruder, integration = await _two_businesses(make_world)
    for method, path in ROUTES:
        response = await intruder.client.request(
            method, path.format(id=integration), headers=intruder.auth
        )
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"] == "not_found"
    listed = await intruder.client.get("/v1/integrations", headers=intruder.auth)
    assert listed.json() == {"integrations": []}
    mine = await owner.client.get(f"/v1/integrations/{integration}", headers=owner.auth)
    assert mine.status_code == 200
    assert mine.json()["status"] == "active"


async def test_internal_routes_answer_404_for_another_business(make_world: WorldFactory) -> None:
    owner, intruder, integration = await _two_businesses(make_world)
    wrong = {"business_id": intruder.business_id}
    base = f"/internal/v1/integrations/{integration}"
    calls: list[tuple[str, str, dict[str, str]]] = [
        ("GET", base, SCHEDULER),
        ("GET", f"{base}/token", PUBLISHER),
        ("POST", f"{base}/refresh", PUBLISHER),
    ]
    for method, path, headers in calls:
        response = await owner.client.request(method, path, params=wrong, headers=headers)
        assert response.status_code == 404, (path, response.text)
    right = {"business_id": owner.business_id}
    ok = await owner.client.get(f"{base}/token", params=right, headers=PUBLISHER)
    assert ok.status_code == 200
    assert ok.json()["account"]["open_id"] == ok.json()["account_id"]


async def _all_public(world: World, integration: str, headers: dict[str, str]) -> list[Any]:
    paths = [(m, p.format(id=integration)) for m, p in ROUTES]
    paths += [("GET", "/v1/integrations"), ("GET", "/v1/oauth/tiktok/connect")]
    return [(m, p, await world.client.request(m, p, headers=headers)) for m, p in paths]


async def test_401_without_a_key_or_with_a_revoked_one(make_world: WorldFactory) -> None:
    world, _, integration = await _two_businesses(make_world)
    revoked = await create_api_key(world.components.deps, world.business_id, "soon revoked")
    await revoke_api_key(world.components.deps, revoked.record.key_id)
    for headers in (
        {},
        {"Authorization": f"Bearer {revoked.key}"},
        {"Authorization": "Bearer hk_0000000000000000_" + "x" * 43},
        {"Authorization": f"Bearer {world.key[:-1]}y"},
    ):
        for method, path, response in await _all_public(world, integration, headers):
            assert response.status_code == 401, (method, path, headers, response.text)
            assert response.headers["www-authenticate"] == "Bearer"


async def test_scopes_are_enforced(make_world: WorldFactory) -> None:
    world = await make_world()
    reader = await create_api_key(
        world.components.deps, world.business_id, "reader", ["integrations:read"]
    )
    headers = {"Authorization": f"Bearer {reader.key}"}
    assert (await world.client.get("/v1/integrations", headers=headers)).status_code == 200
    denied = await world.client.get("/v1/oauth/facebook/connect", headers=headers)
    assert denied.status_code == 403
    assert denied.json()["error"] == "missing_scope"


async def test_service_roles(make_world: WorldFactory) -> None:
    world, _, integration = await _two_businesses(make_world)
    base = f"/internal/v1/integrations/{integration}"
    params = {"business_id": world.business_id}
    facebook_publisher = {"Authorization": "Bearer pubfb-" + "c9d0e1f2" * 5}
    assert (await world.client.get(f"{base}/token", params=params)).status_code == 401
    bad = {"Authorization": "Bearer not-a-service"}
    assert (await world.client.get(f"{base}/token", params=params, headers=bad)).status_code == 401
    scheduler = await world.client.get(f"{base}/token", params=params, headers=SCHEDULER)
    assert scheduler.status_code == 403  # the scheduler may not read tokens
    other = await world.client.get(f"{base}/token", params=params, headers=facebook_publisher)
    assert other.status_code == 403  # publisher-facebook may not read TikTok tokens
    body = {"key": world.key}
    introspect = "/internal/v1/api-keys/introspect"
    denied = await world.client.post(introspect, json=body, headers=PUBLISHER)
    assert denied.status_code == 403
    answered = await world.client.post(introspect, json=body, headers=SCHEDULER)
    assert answered.json()["active"] is True
    assert answered.json()["business_id"] == world.business_id
    assert set(answered.json()["scopes"]) >= {"posts:write", "integrations:read"}
    inactive = await world.client.post(introspect, json={"key": "hk_nope"}, headers=SCHEDULER)
    assert inactive.json() == {"active": False}


async def test_connect_redirect_variant_and_login_choice(make_world: WorldFactory) -> None:
    world = await make_world()
    redirected = await world.client.get(
        "/v1/oauth/instagram/connect",
        params={"redirect": "true", "login": "facebook"},
        headers=world.auth,
    )
    assert redirected.status_code == 302
    assert redirected.headers["location"].startswith("http://auth.test/v1/oauth/instagram/start?")
    location = str(await through_start_link(world.client, redirected.headers["location"]))
    assert "/www.facebook.com/v23.0/dialog/oauth?" in location
    assert "redirect_uri=http%3A%2F%2Fauth.test%2Fv1%2Foauth%2Finstagram%2Fcallback" in location
    assert redirected.headers["referrer-policy"] == "no-referrer"
    instagram = await world.client.get("/v1/oauth/instagram/connect", headers=world.auth)
    assert instagram.json()["login"] == "instagram"
    platform = await through_start_link(world.client, instagram.json()["authorize_url"])
    assert "/www.instagram.com/oauth/authorize?" in str(platform)
    unknown = await world.client.get("/v1/oauth/myspace/connect", headers=world.auth)
    assert unknown.status_code == 422


async def test_a_key_is_looked_up_by_id_with_the_public_key_that_verifies_its_events(
    make_world: WorldFactory,
) -> None:
    """The scheduler verifies signed post.submitted with what this answers (herald.producerauth);
    a revoked key answers inactive at once, as introspection does."""
    world = await make_world()
    issued = await create_api_key(world.components.deps, world.business_id, "producer")
    lookup = "/internal/v1/api-keys/lookup"
    body = {"key_id": issued.record.key_id}
    denied = await world.client.post(lookup, json=body, headers=PUBLISHER)
    assert denied.status_code == 403
    found = (await world.client.post(lookup, json=body, headers=SCHEDULER)).json()
    assert found["active"] is True
    assert found["business_id"] == world.business_id
    value = b'{"business_id": "' + world.business_id.encode() + b'"}'
    assert verifies(found["event_key"], parse(sign(issued.key, value)), value)
    assert "secret_hash" not in found
    unknown = await world.client.post(lookup, json={"key_id": "0" * 16}, headers=SCHEDULER)
    assert unknown.json() == {"active": False}
    await revoke_api_key(world.components.deps, issued.record.key_id)
    revoked = await world.client.post(lookup, json=body, headers=SCHEDULER)
    assert revoked.json() == {"active": False}
    empty = await world.client.post(lookup, json={"key_id": ""}, headers=SCHEDULER)
    assert empty.status_code in (400, 422)
