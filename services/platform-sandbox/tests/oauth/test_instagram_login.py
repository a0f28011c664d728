"""Business Login for Instagram (platform-apis.md §2.1): authorize, code exchange on
api.instagram.com with its own error shape, long-lived exchange, refresh after 24 hours."""

from __future__ import annotations

import httpx
import pytest

from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
APP, SECRET = "200000000000002", "sandbox-instagram-app-secret"
REDIRECT = "http://127.0.0.1:8100/v1/oauth/instagram/callback"
SCOPES = "instagram_business_basic,instagram_business_content_publish"


async def authorize(h: SandboxHarness, decision: str = "approve") -> httpx.URL:
    params = {
        "client_id": APP,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": SCOPES,
        "state": "st",
        "sandbox_decision": decision,
    }
    response = await h.client.get("/www.instagram.com/oauth/authorize", params=params)
    assert response.status_code == 302
    assert response.headers["location"].endswith("#_")
    return httpx.URL(response.headers["location"])


async def exchange(h: SandboxHarness, code: str) -> httpx.Response:
    form = {
        "client_id": APP,
        "client_secret": SECRET,
        "grant_type": "authorization_code",
        "redirect_uri": REDIRECT,
        "code": code,
    }
    return await h.client.post("/api.instagram.com/oauth/access_token", data=form)


async def test_code_exchange_returns_the_data_list(harness: SandboxHarness) -> None:
    url = await authorize(harness)
    response = await exchange(harness, url.params["code"] + "#_")
    entry = response.json()["data"][0]
    assert entry["user_id"] == harness.demo.ig_user_id
    assert entry["permissions"] == SCOPES
    again = await exchange(harness, url.params["code"])
    assert again.status_code == 400
    assert again.json() == {
        "error_type": "OAuthException",
        "code": 400,
        "error_message": "Matching code was not found or was already used",
    }


async def test_cancel_redirects_with_user_denied(harness: SandboxHarness) -> None:
    url = await authorize(harness, "cancel")
    assert (url.params["error"], url.params["error_reason"]) == ("access_denied", "user_denied")


async def test_long_lived_token_and_refresh(harness: SandboxHarness) -> None:
    short = (await exchange(harness, (await authorize(harness)).params["code"])).json()["data"][0]
    params = {"grant_type": "ig_exchange_token", "client_secret": SECRET}
    long = await harness.client.get(
        "/graph.instagram.com/access_token", params=params | {"access_token": short["access_token"]}
    )
    body = long.json()
    assert (body["token_type"], body["expires_in"]) == ("bearer", 5184000)
    refresh = {"grant_type": "ig_refresh_token", "access_token": body["access_token"]}
    too_soon = await harness.client.get("/graph.instagram.com/refresh_access_token", params=refresh)
    assert too_soon.json()["error"]["code"] == 100
    harness.sandbox.clock.advance(86_401)
    renewed = await harness.client.get("/graph.instagram.com/refresh_access_token", params=refresh)
    assert renewed.json()["access_token"] != body["access_token"]
    me = await harness.client.get(
        "/graph.instagram.com/v23.0/me",
        params={"fields": "user_id,username", "access_token": renewed.json()["access_token"]},
    )
    assert me.json()["username"] == "herald.demo.bakery"


async def test_instagram_tokens_only_work_on_their_host(harness: SandboxHarness) -> None:
    ig = (await harness.token("ig_long", harness.demo.ig_user_id))["access_token"]
    fb = (await harness.token("page", harness.demo.page_id))["access_token"]
    on_facebook = await harness.client.get(
        "/graph.facebook.com/v23.0/me", params={"access_token": ig}
    )
    on_instagram = await harness.client.get(
        "/graph.instagram.com/v23.0/me", params={"access_token": fb}
    )
    assert on_facebook.json()["error"]["code"] == 190
    assert on_instagram.json()["error"]["code"] == 190


async def test_wrong_secret_on_long_lived_exchange(harness: SandboxHarness) -> None:
    ig = (await harness.token("ig_short", harness.demo.ig_user_id))["access_token"]
    response = await harness.client.get(
        "/graph.instagram.com/access_token",
        params={"grant_type": "ig_exchange_token", "client_secret": "x", "access_token": ig},
    )
    assert response.json()["error"]["code"] == 101
