"""`POST /{phone-number-id}/messages` against the OpenAPI `Message` and
`MessageResponsePayload` schemas and the Cloud API error table (platform-apis.md §3.2, §3.6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
V = "/graph.facebook.com/v23.0"
CUSTOMER = "16505551234"


async def business_token(h: SandboxHarness, scopes: list[str] | None = None) -> str:
    options: dict[str, Any] = {"assets": [h.demo.waba_id]}
    if scopes is not None:
        options["scopes"] = scopes
    token: str = (await h.token("system_user", "130000000000009", **options))["access_token"]
    return token


async def open_window(h: SandboxHarness, wa_id: str = CUSTOMER) -> None:
    response = await h.client.post(
        "/_sandbox/whatsapp/inbound",
        json={"phone_number_id": h.demo.phone_number_id, "from": wa_id},
    )
    assert response.status_code == 200


async def send(h: SandboxHarness, body: dict[str, Any], token: str | None = None) -> httpx.Response:
    token = token or await business_token(h)
    return await h.client.post(
        f"{V}/{h.demo.phone_number_id}/messages",
        json={"messaging_product": "whatsapp", "recipient_type": "individual"} | body,
        headers={"Authorization": f"Bearer {token}"},
    )


def text(body: str = "Your order is ready", to: str = CUSTOMER) -> dict[str, Any]:
    return {"to": to, "type": "text", "text": {"preview_url": False, "body": body}}


async def test_text_in_the_window_answers_the_message_response_payload(
    harness: SandboxHarness,
) -> None:
    await open_window(harness)
    response = await send(harness, text() | {"to": "+" + CUSTOMER})
    assert response.status_code == 200
    body = response.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+" + CUSTOMER, "wa_id": CUSTOMER}]
    assert len(body["messages"]) == 1
    assert body["messages"][0]["id"].startswith("wamid.")
    usage = response.headers["x-business-use-case-usage"]
    assert '"type": "whatsapp"' in usage
    ledger = (await harness.client.get("/_sandbox/ledger", params={"platform": "whatsapp"})).json()
    assert ledger["entries"][0]["object_id"] == body["messages"][0]["id"]
    assert ledger["entries"][0]["request"]["to"] == CUSTOMER


async def test_form_encoded_body_with_json_objects_is_accepted(harness: SandboxHarness) -> None:
    await open_window(harness)
    token = await business_token(harness)
    response = await harness.client.post(
        f"{V}/{harness.demo.phone_number_id}/messages",
        data={
            "messaging_product": "whatsapp",
            "to": CUSTOMER,
            "type": "text",
            "text": '{"body": "form-encoded"}',
            "access_token": token,
        },
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"messaging_product": None}, 100),
        ({"type": "hologram", "hologram": {}}, 131051),
        ({"text": {"body": ""}}, 131008),
        ({"text": {"body": "x" * 4097}}, 131009),
        ({"to": "not-a-number"}, 131009),
        ({"to": "15550100001"}, 131021),
        ({"type": "image", "image": {"id": "1", "link": "http://127.0.0.1/a.jpg"}}, 131009),
        ({"type": "image", "image": {"id": "4490000000009999"}}, 131009),
    ],
)
async def test_invalid_messages(harness: SandboxHarness, body: dict[str, Any], code: int) -> None:
    await open_window(harness)
    payload = {"messaging_product": "whatsapp"} | text() | body
    if payload["messaging_product"] is None:
        del payload["messaging_product"]
    token = await business_token(harness)
    response = await harness.client.post(
        f"{V}/{harness.demo.phone_number_id}/messages",
        json=payload,
        headers={"Authorization": f"Bearer {token}"},
    )
    error = response.json()["error"]
    assert error["code"] == code
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert (await harness.client.get("/_sandbox/ledger")).json()["count"] == 0


def template(name: str, body_params: int, **components: Any) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {
            "type": "body",
            "parameters": [{"type": "text", "text": f"p{i}"} for i in range(body_params)],
        }
    ]
    parts.extend(components.get("extra", []))
    return {
        "to": CUSTOMER,
        "type": "template",
        "template": {"name": name, "language": {"code": "en_US"}, "components": parts},
    }


ORDER_EXTRA = [
    {
        "type": "header",
        "parameters": [
            {"type": "image", "image": {"link": "http://127.0.0.1:8120/_sandbox/media/h.jpg"}}
        ],
    },
    {
        "type": "button",
        "sub_type": "url",
        "index": "0",
        "parameters": [{"type": "text", "text": "A1"}],
    },
]


async def test_template_outside_the_window_is_accepted(harness: SandboxHarness) -> None:
    response = await send(harness, template("order_update", 2, extra=ORDER_EXTRA))
    assert response.status_code == 200
    assert response.json()["messages"][0]["message_status"] == "accepted"


@pytest.mark.parametrize(
    ("message", "status", "code"),
    [
        (template("order_update", 1, extra=ORDER_EXTRA), 400, 132000),
        (template("order_update", 2, extra=ORDER_EXTRA[:1]), 400, 132000),
        (template("order_update", 2, extra=ORDER_EXTRA[1:]), 400, 132000),
        (template("no_such_template", 0), 404, 132001),
        (template("hello_world", 1), 400, 132000),
    ],
)
async def test_template_errors(
    harness: SandboxHarness, message: dict[str, Any], status: int, code: int
) -> None:
    response = await send(harness, message)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


async def test_template_header_format_and_language(harness: SandboxHarness) -> None:
    wrong_header = [
        {"type": "header", "parameters": [{"type": "text", "text": "hi"}]},
        ORDER_EXTRA[1],
    ]
    response = await send(harness, template("order_update", 2, extra=wrong_header))
    assert response.json()["error"]["code"] == 132012
    spanish = template("hello_world", 0)
    spanish["template"]["language"]["code"] = "es"
    assert (await send(harness, spanish)).json()["error"]["code"] == 132001


@pytest.mark.parametrize(("status", "code"), [("PAUSED", 132015), ("DISABLED", 132016)])
async def test_paused_and_disabled_templates(
    harness: SandboxHarness, status: str, code: int
) -> None:
    await harness.client.post(
        "/_sandbox/whatsapp/templates",
        json={
            "waba_id": harness.demo.waba_id,
            "name": "promo",
            "category": "MARKETING",
            "status": status,
        },
    )
    assert (await send(harness, template("promo", 0))).json()["error"]["code"] == code


async def test_throughput_limit_is_130429(make_harness: Callable[..., SandboxHarness]) -> None:
    h = make_harness(whatsapp={"throughput_mps": 2})
    await open_window(h, "111")
    await open_window(h, "222")
    await open_window(h, "333")
    codes = [(await send(h, text(to=to))).status_code for to in ("111", "222", "333")]
    assert codes == [200, 200, 429]
    error = (await send(h, text(to="333"))).json()["error"]
    assert error["code"] == 130429
    h.sandbox.clock.advance(1)
    assert (await send(h, text(to="333"))).status_code == 200


async def test_pair_rate_limit_is_131056_per_recipient(
    make_harness: Callable[..., SandboxHarness],
) -> None:
    h = make_harness(whatsapp={"pair_burst": 2})
    await open_window(h, "111")
    await open_window(h, "222")
    first, second, third = [await send(h, text(f"m{i}", to="111")) for i in range(3)]
    assert (first.status_code, second.status_code) == (200, 200)
    assert (third.status_code, third.json()["error"]["code"]) == (400, 131056)
    assert (await send(h, text(to="222"))).status_code == 200
    h.sandbox.clock.advance(6)
    assert (await send(h, text("later", to="111"))).status_code == 200


async def test_sync_window_error_setting(make_harness: Callable[..., SandboxHarness]) -> None:
    h = make_harness(whatsapp={"window_error": "sync"})
    response = await send(h, text())
    assert (response.status_code, response.json()["error"]["code"]) == (400, 131047)


async def test_messaging_needs_the_permission_and_the_waba(harness: SandboxHarness) -> None:
    no_scope = await business_token(harness, ["whatsapp_business_management"])
    assert (await send(harness, text(), no_scope)).json()["error"]["code"] == 10
    stranger = (await harness.token("system_user", "130000000000008", assets=[]))["access_token"]
    assert (await send(harness, text(), stranger)).json()["error"]["error_subcode"] == 33


async def test_expired_business_token_is_401_190(harness: SandboxHarness) -> None:
    token = (
        await harness.token(
            "system_user", "130000000000009", assets=[harness.demo.waba_id], lifetime_s=1
        )
    )["access_token"]
    harness.sandbox.clock.advance(2)
    response = await send(harness, text(), token)
    assert (response.status_code, response.json()["error"]["code"]) == (401, 190)


async def test_read_receipt(harness: SandboxHarness) -> None:
    response = await send(
        harness, {"status": "read", "message_id": "wamid.x", "typing_indicator": {"type": "text"}}
    )
    assert response.json() == {"success": True}
