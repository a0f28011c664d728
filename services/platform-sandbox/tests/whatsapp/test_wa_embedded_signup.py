"""Embedded Signup as the JavaScript SDK delivers it (platform-apis.md §3.1): the popup's code
exchanges without a redirect URI and once; its token reaches only the chosen WABA; `register`
wants the number's two-step PIN (100 without one, 133005 for another)."""

from __future__ import annotations

import httpx
import pytest

from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
APP, SECRET = "100000000000001", "sandbox-meta-app-secret"
V = "/graph.facebook.com/v23.0"
TOKEN = f"{V}/oauth/access_token"


async def _exchange(h: SandboxHarness, code: str, **extra: str) -> httpx.Response:
    params = {"client_id": APP, "client_secret": SECRET, "code": code}
    return await h.client.post(TOKEN, data=params | extra)


async def _signup(h: SandboxHarness, **body: object) -> dict[str, object]:
    response = await h.client.post("/_sandbox/whatsapp/embedded_signup", json=body)
    assert response.status_code == 200, response.text
    signup: dict[str, object] = response.json()
    return signup


async def test_sdk_code_exchanges_without_redirect_uri_once_and_before_it_expires(
    harness: SandboxHarness,
) -> None:
    first = await _signup(harness)
    with_uri = await _exchange(harness, str(first["code"]), redirect_uri="https://x.test/cb")
    assert with_uri.json()["error"]["error_subcode"] == 36008

    second = await _signup(harness)
    assert (await _exchange(harness, str(second["code"]))).status_code == 200
    again = (await _exchange(harness, str(second["code"]))).json()["error"]
    assert (again["code"], again["error_subcode"]) == (100, 36009)

    third = await _signup(harness)
    harness.sandbox.clock.advance(harness.sandbox.settings.meta.code_ttl_s + 1)
    late = (await _exchange(harness, str(third["code"]))).json()["error"]
    assert (late["code"], late["error_subcode"]) == (100, 36007)


async def test_the_token_reaches_only_the_chosen_waba(harness: SandboxHarness) -> None:
    other = await harness.client.post(
        "/_sandbox/whatsapp/wabas", json={"owner_user_id": harness.demo.user_id}
    )
    signup = await _signup(harness, waba_id=other.json()["id"])
    token = (await _exchange(harness, str(signup["code"]))).json()["access_token"]
    mine = await harness.client.post(
        f"{V}/{other.json()['id']}/subscribed_apps", params={"access_token": token}
    )
    assert mine.json() == {"success": True}
    theirs = await harness.client.post(
        f"{V}/{harness.demo.waba_id}/subscribed_apps", params={"access_token": token}
    )
    error = theirs.json()["error"]
    assert (error["code"], error["error_subcode"]) == (100, 33)  # missing permissions


async def test_register_wants_the_numbers_two_step_pin(harness: SandboxHarness) -> None:
    added = await harness.client.post(
        "/_sandbox/whatsapp/phone_numbers",
        json={
            "waba_id": harness.demo.waba_id,
            "display_phone_number": "+1 555-010-0777",
            "registered": False,
            "pin": "246810",
        },
    )
    number = added.json()["id"]
    signup = await _signup(harness, phone_number_id=number)
    assert signup["data"] == {
        "waba_id": harness.demo.waba_id,
        "phone_number_id": number,
        "business_id": signup["data"]["business_id"],  # type: ignore[index]
    }
    token = (await _exchange(harness, str(signup["code"]))).json()["access_token"]
    params = {"access_token": token}
    state = await harness.client.get(f"{V}/{number}", params=params | {"fields": "status"})
    assert state.json()["status"] == "PENDING"
    url = f"{V}/{number}/register"
    missing = await harness.client.post(url, params=params, json={"messaging_product": "whatsapp"})
    assert missing.json()["error"]["message"] == "(#100) The parameter pin is required"
    wrong = await harness.client.post(
        url, params=params, json={"messaging_product": "whatsapp", "pin": "111111"}
    )
    assert wrong.json()["error"]["code"] == 133005
    right = await harness.client.post(
        url, params=params, json={"messaging_product": "whatsapp", "pin": "246810"}
    )
    assert right.json() == {"success": True}
    fields = "status,platform_type,whatsapp_business_manager_messaging_limit"
    after = (await harness.client.get(f"{V}/{number}", params=params | {"fields": fields})).json()
    assert (after["status"], after["platform_type"]) == ("CONNECTED", "CLOUD_API")


async def test_popup_posts_to_a_loopback_opener_only(harness: SandboxHarness) -> None:
    url = "/_sandbox/whatsapp/embedded_signup/popup"
    page = await harness.client.get(url, params={"origin": "http://127.0.0.1:8101"})
    assert page.status_code == 200
    assert "WA_EMBEDDED_SIGNUP" in page.text
    assert "+1 555-010-0001" in page.text
    refused = await harness.client.get(url, params={"origin": "https://evil.example"})
    assert refused.status_code == 400
