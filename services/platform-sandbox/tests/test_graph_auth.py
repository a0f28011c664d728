"""Graph token and permission errors with the real codes (platform-apis.md §5.2): 104 without a
token, 190 for a token Graph cannot parse, 190/463 expired, 190/458 and 460 revoked, 100/33 for
an object the token cannot see, 200 for a missing permission, and `appsecret_proof`."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import pytest

from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
V = "/graph.facebook.com/v23.0"
SECRET = "sandbox-meta-app-secret"


async def post(h: SandboxHarness, token: str | None, **params: str) -> dict[str, object]:
    data = {"message": "hello", **params}
    if token is not None:
        data["access_token"] = token
    response = await h.client.post(f"{V}/{h.demo.page_id}/feed", data=data)
    body: dict[str, object] = (
        response.json()["error"] if response.status_code != 200 else response.json()
    )
    return body


async def test_no_token_is_104(harness: SandboxHarness) -> None:
    error = await post(harness, None)
    assert error["code"] == 104


async def test_unknown_token_is_190_without_subcode(harness: SandboxHarness) -> None:
    response = await harness.client.get(f"{V}/me", headers={"Authorization": "Bearer EAAnope"})
    error = response.json()["error"]
    assert (error["code"], error.get("error_subcode"), error["type"]) == (
        190,
        None,
        "OAuthException",
    )
    assert response.headers["www-authenticate"].startswith(
        'OAuth "Facebook Platform" "invalid_token"'
    )


async def test_expired_token_is_190_463(harness: SandboxHarness) -> None:
    token = (await harness.token("page", harness.demo.page_id, lifetime_s=60))["access_token"]
    harness.sandbox.clock.advance(61)
    error = await post(harness, token)
    assert (error["code"], error["error_subcode"]) == (190, 463)
    assert "Session has expired" in str(error["message"])


@pytest.mark.parametrize("subcode", [458, 460, 492])
async def test_revoked_token_carries_the_revocation_subcode(
    harness: SandboxHarness, subcode: int
) -> None:
    token = (await harness.token("page", harness.demo.page_id))["access_token"]
    await harness.client.post("/_sandbox/tokens/revoke", json={"token": token, "subcode": subcode})
    error = await post(harness, token)
    assert (error["code"], error["error_subcode"]) == (190, subcode)


async def test_page_token_dies_when_the_person_removes_the_app(harness: SandboxHarness) -> None:
    user = (await harness.token("user_long", harness.demo.user_id))["access_token"]
    accounts = await harness.client.get(f"{V}/me/accounts", params={"access_token": user})
    page_token = accounts.json()["data"][0]["access_token"]
    assert "id" in await post(harness, page_token)
    removed = await harness.client.delete(f"{V}/me/permissions", params={"access_token": user})
    assert removed.json() == {"success": True}
    error = await post(harness, page_token, message="after removal")
    assert (error["code"], error["error_subcode"]) == (190, 458)


async def test_a_page_the_token_cannot_see_is_100_33(harness: SandboxHarness) -> None:
    other = await harness.client.post("/_sandbox/facebook/users", json={"name": "Bea"})
    page = await harness.client.post(
        "/_sandbox/facebook/pages", json={"name": "Other", "owner_user_id": other.json()["id"]}
    )
    token = (await harness.token("page", harness.demo.page_id))["access_token"]
    response = await harness.client.get(f"{V}/{page.json()['id']}", params={"access_token": token})
    error = response.json()["error"]
    assert (error["code"], error["error_subcode"], error["type"]) == (
        100,
        33,
        "GraphMethodException",
    )


async def test_missing_publish_permission_is_200(harness: SandboxHarness) -> None:
    token = (await harness.token("page", harness.demo.page_id, scopes=["pages_show_list"]))[
        "access_token"
    ]
    error = await post(harness, token)
    assert error["code"] == 200


async def test_unknown_edge_on_get_is_a_nonexisting_field(harness: SandboxHarness) -> None:
    token = (await harness.token("page", harness.demo.page_id))["access_token"]
    response = await harness.client.get(
        f"{V}/{harness.demo.page_id}/nope", params={"access_token": token}
    )
    assert "nonexisting field (nope)" in response.json()["error"]["message"]


async def test_version_is_optional_and_echoed(harness: SandboxHarness) -> None:
    token = (await harness.token("page", harness.demo.page_id))["access_token"]
    versioned = await harness.client.get(
        "/graph.facebook.com/v24.0/me", params={"access_token": token}
    )
    bare = await harness.client.get("/graph.facebook.com/me", params={"access_token": token})
    assert versioned.headers["facebook-api-version"] == "v24.0"
    assert bare.headers["facebook-api-version"] == "v23.0"
    assert versioned.json()["id"] == bare.json()["id"] == harness.demo.page_id
    assert versioned.headers["x-fb-trace-id"]


def proof(token: str, stamp: str | None = None) -> str:
    message = f"{token}|{stamp}" if stamp else token
    return hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


async def test_appsecret_proof_when_the_app_requires_it(
    make_harness: Callable[..., SandboxHarness],
) -> None:
    h = make_harness(meta={"require_appsecret_proof": True})
    token = (await h.token("page", h.demo.page_id))["access_token"]
    missing = await post(h, token, message="a")
    assert (missing["code"], missing["type"]) == (100, "GraphMethodException")
    wrong = await post(h, token, message="b", appsecret_proof="00" * 32)
    assert "Invalid appsecret_proof" in str(wrong["message"])
    assert "id" in await post(h, token, message="c", appsecret_proof=proof(token))
    stamp = str(int(h.sandbox.clock.now()))
    timed = await post(
        h, token, message="d", appsecret_proof=proof(token, stamp), appsecret_time=stamp
    )
    assert "id" in timed
    stale = str(int(h.sandbox.clock.now()) - 3600)
    old = await post(
        h, token, message="e", appsecret_proof=proof(token, stale), appsecret_time=stale
    )
    assert old["code"] == 100


async def test_a_wrong_proof_is_refused_even_when_not_required(harness: SandboxHarness) -> None:
    token = (await harness.token("page", harness.demo.page_id))["access_token"]
    error = await post(harness, token, appsecret_proof="deadbeef")
    assert error["code"] == 100
