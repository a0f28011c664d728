"""Facebook Login (platform-apis.md §1.1): dialog, consent, cancel, code exchange and its
errors, long-lived exchange, Page tokens, debug_token, app tokens, Embedded Signup."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
APP, SECRET = "100000000000001", "sandbox-meta-app-secret"
REDIRECT = "http://127.0.0.1:8100/v1/oauth/facebook/callback"
DIALOG = "/www.facebook.com/v23.0/dialog/oauth"
TOKEN = "/graph.facebook.com/v23.0/oauth/access_token"
SCOPES = "pages_show_list,pages_manage_posts,pages_read_engagement,read_insights"


def dialog_params(**extra: str) -> dict[str, str]:
    return {"client_id": APP, "redirect_uri": REDIRECT, "state": "s123", "scope": SCOPES} | extra


async def code_for(h: SandboxHarness, **extra: str) -> str:
    response = await h.client.get(DIALOG, params=dialog_params(sandbox_auto_approve="1", **extra))
    assert response.status_code == 302
    location = httpx.URL(response.headers["location"])
    assert location.params["state"] == "s123"
    assert response.headers["location"].endswith("#_=_")
    return location.params["code"]


async def exchange(h: SandboxHarness, code: str, **extra: str) -> httpx.Response:
    params = {"client_id": APP, "client_secret": SECRET, "redirect_uri": REDIRECT, "code": code}
    return await h.client.get(TOKEN, params=params | extra)


async def test_consent_page_then_approve_and_cancel(harness: SandboxHarness) -> None:
    page = await harness.client.get(DIALOG, params=dialog_params())
    assert page.status_code == 200
    assert "Approve" in page.text
    assert "Cancel" in page.text
    form = dialog_params(sandbox_decision="cancel")
    cancelled = await harness.client.post(DIALOG, data=form)
    location = httpx.URL(cancelled.headers["location"])
    assert cancelled.status_code == 302
    assert location.params["error"] == "access_denied"
    assert location.params["error_reason"] == "user_denied"
    assert location.params["state"] == "s123"
    approved = await harness.client.post(DIALOG, data=dialog_params(sandbox_decision="approve"))
    assert "code" in httpx.URL(approved.headers["location"]).params


async def test_auto_approve_setting_skips_the_page(
    make_harness: Callable[..., SandboxHarness],
) -> None:
    h = make_harness(oauth={"auto_approve": True})
    response = await h.client.get(DIALOG, params=dialog_params())
    assert response.status_code == 302


async def test_wrong_app_or_redirect_shows_an_error_page(harness: SandboxHarness) -> None:
    wrong_app = await harness.client.get(DIALOG, params=dialog_params(client_id="1"))
    no_redirect = await harness.client.get(DIALOG, params=dialog_params(redirect_uri="nope"))
    assert (wrong_app.status_code, no_redirect.status_code) == (400, 400)


async def test_code_exchange_gives_a_short_lived_user_token(harness: SandboxHarness) -> None:
    response = await exchange(harness, await code_for(harness))
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    me = await harness.client.get(
        "/graph.facebook.com/v23.0/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json() == {"name": "Ana Demo", "id": harness.demo.user_id}


async def test_code_exchange_errors(harness: SandboxHarness) -> None:
    code = await code_for(harness)
    wrong_secret = await exchange(harness, code, client_secret="nope")
    assert wrong_secret.json()["error"]["code"] == 1
    mismatch = await exchange(harness, code, redirect_uri="http://127.0.0.1/other")
    assert mismatch.json()["error"]["error_subcode"] == 36008
    assert (await exchange(harness, code)).status_code == 200
    reused = await exchange(harness, code)
    assert (reused.json()["error"]["code"], reused.json()["error"]["error_subcode"]) == (100, 36009)
    late = await code_for(harness)
    harness.sandbox.clock.advance(601)
    expired = await exchange(harness, late)
    assert expired.json()["error"]["error_subcode"] == 36007
    garbage = await exchange(harness, "not-a-code")
    assert garbage.json()["error"]["code"] == 100


async def test_long_lived_exchange_and_page_tokens_without_expiry(harness: SandboxHarness) -> None:
    short = (await exchange(harness, await code_for(harness))).json()["access_token"]
    params = {
        "grant_type": "fb_exchange_token",
        "client_id": APP,
        "client_secret": SECRET,
        "fb_exchange_token": short,
    }
    long = (await harness.client.get(TOKEN, params=params)).json()
    assert long["expires_in"] == 5183944
    accounts = await harness.client.get(
        "/graph.facebook.com/v23.0/me/accounts", params={"access_token": long["access_token"]}
    )
    page = accounts.json()["data"][0]
    assert set(page) == {"access_token", "category", "category_list", "name", "id", "tasks"}
    debug = await harness.client.get(
        "/graph.facebook.com/v23.0/debug_token",
        params={"input_token": page["access_token"], "access_token": f"{APP}|{SECRET}"},
    )
    data = debug.json()["data"]
    assert (data["type"], data["expires_at"], data["is_valid"]) == ("PAGE", 0, True)


async def test_an_expired_short_token_cannot_be_exchanged(harness: SandboxHarness) -> None:
    short = (await exchange(harness, await code_for(harness))).json()["access_token"]
    harness.sandbox.clock.advance(3601)
    params = {
        "grant_type": "fb_exchange_token",
        "client_id": APP,
        "client_secret": SECRET,
        "fb_exchange_token": short,
    }
    error = (await harness.client.get(TOKEN, params=params)).json()["error"]
    assert (error["code"], error["error_subcode"]) == (190, 463)


async def test_page_fields_include_the_instagram_account(harness: SandboxHarness) -> None:
    token = (await harness.token("user_long", harness.demo.user_id))["access_token"]
    response = await harness.client.get(
        f"/graph.facebook.com/v23.0/{harness.demo.page_id}",
        params={"access_token": token, "fields": "instagram_business_account,access_token"},
    )
    body = response.json()
    assert body["instagram_business_account"] == {"id": harness.demo.ig_user_id}
    assert body["access_token"].startswith("EAAP")
    assert body["id"] == harness.demo.page_id


async def test_debug_token_reports_invalid_tokens(harness: SandboxHarness) -> None:
    response = await harness.client.get(
        "/graph.facebook.com/v23.0/debug_token",
        params={"input_token": "EAAgarbage", "access_token": f"{APP}|{SECRET}"},
    )
    assert response.json()["data"]["is_valid"] is False
    app_token = await harness.client.get(
        TOKEN,
        params={"client_id": APP, "client_secret": SECRET, "grant_type": "client_credentials"},
    )
    assert app_token.json()["access_token"] == f"{APP}|{SECRET}"


async def test_permission_revocation_drops_one_scope(harness: SandboxHarness) -> None:
    token = (await harness.token("user_long", harness.demo.user_id))["access_token"]
    url = f"/graph.facebook.com/v23.0/{harness.demo.user_id}/permissions"
    await harness.client.delete(f"{url}/read_insights", params={"access_token": token})
    listed = await harness.client.get(url, params={"access_token": token})
    assert "read_insights" not in {p["permission"] for p in listed.json()["data"]}


async def test_embedded_signup_code_gives_a_business_token_for_the_waba(
    harness: SandboxHarness,
) -> None:
    signup = (await harness.client.post("/_sandbox/whatsapp/embedded_signup", json={})).json()
    assert signup["data"]["waba_id"] == harness.demo.waba_id
    response = await harness.client.get(
        TOKEN, params={"client_id": APP, "client_secret": SECRET, "code": signup["code"]}
    )
    body = response.json()
    assert "expires_in" not in body
    token = body["access_token"]
    debug = await harness.client.get(
        "/graph.facebook.com/v23.0/debug_token",
        params={"input_token": token, "access_token": token},
    )
    granular = {g["scope"]: g.get("target_ids") for g in debug.json()["data"]["granular_scopes"]}
    assert granular["whatsapp_business_management"] == [harness.demo.waba_id]
    owned = await harness.client.get(
        f"/graph.facebook.com/v23.0/{signup['data']['business_id']}/owned_whatsapp_business_accounts",
        params={"access_token": token},
    )
    assert [w["id"] for w in owned.json()["data"]] == [harness.demo.waba_id]


async def test_login_for_business_config_id_gives_a_business_token(harness: SandboxHarness) -> None:
    code = await code_for(harness, config_id="sandbox-embedded-signup")
    token = (await exchange(harness, code)).json()["access_token"]
    numbers = await harness.client.get(
        f"/graph.facebook.com/v23.0/{harness.demo.waba_id}/phone_numbers",
        params={"access_token": token},
    )
    assert numbers.json()["data"][0]["id"] == harness.demo.phone_number_id
