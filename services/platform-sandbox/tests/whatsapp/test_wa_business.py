"""WhatsApp business accounts: WABA and number discovery, templates, registration."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
V = "/graph.facebook.com/v23.0"


async def test_discovery_of_numbers_and_templates(harness: SandboxHarness) -> None:
    token = (await harness.token("system_user", "1", assets=[harness.demo.waba_id]))["access_token"]
    params = {"access_token": token}
    waba = await harness.client.get(f"{V}/{harness.demo.waba_id}", params=params)
    assert waba.json()["name"] == "Herald Demo WhatsApp"
    numbers = await harness.client.get(f"{V}/{harness.demo.waba_id}/phone_numbers", params=params)
    number = numbers.json()["data"][0]
    assert number["display_phone_number"] == "+1 555-010-0001"
    assert number["quality_rating"] == "GREEN"
    templates = await harness.client.get(
        f"{V}/{harness.demo.waba_id}/message_templates", params=params
    )
    listed = {t["name"]: t for t in templates.json()["data"]}
    assert set(listed) == {"hello_world", "order_update"}
    # Meta's shape: components with {{n}} placeholders, no counts (platform-apis.md §3).
    for template in listed.values():
        assert {"name", "language", "status", "category", "id", "components"} <= set(template)
        assert any(c["type"] == "BODY" for c in template["components"])
    one = await harness.client.get(
        f"{V}/{harness.demo.phone_number_id}",
        params=params | {"fields": "throughput,platform_type"},
    )
    assert one.json()["throughput"] == {"level": "STANDARD"}


async def test_register_needs_a_six_digit_pin(harness: SandboxHarness) -> None:
    token = (await harness.token("system_user", "1", assets=[harness.demo.waba_id]))["access_token"]
    url = f"{V}/{harness.demo.phone_number_id}/register"
    bad = await harness.client.post(
        url, params={"access_token": token}, json={"messaging_product": "whatsapp", "pin": "12"}
    )
    assert bad.json()["error"]["code"] == 100
    good = await harness.client.post(
        url, params={"access_token": token}, json={"messaging_product": "whatsapp", "pin": "123456"}
    )
    assert good.json() == {"success": True}


async def test_management_budget_is_80008(make_harness: Callable[..., SandboxHarness]) -> None:
    h = make_harness(meta={"waba_calls_per_hour": 2})
    token = (await h.token("system_user", "1", assets=[h.demo.waba_id]))["access_token"]
    codes = []
    for _ in range(3):
        response = await h.client.get(f"{V}/{h.demo.waba_id}", params={"access_token": token})
        codes.append(response.json().get("error", {}).get("code"))
    assert codes == [None, None, 80008]
