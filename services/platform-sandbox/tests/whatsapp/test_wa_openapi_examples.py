"""The request examples of Meta's OpenAPI description of the Cloud API
(`facebook/openapi`, `business-messaging-api_v23.0.yaml`, path `/{Phone-Number-ID}/messages`)
for the message types Herald sends, with sandbox ids in place of the placeholders. Each must be
accepted with a `MessageResponsePayload`."""

from __future__ import annotations

from typing import Any

import pytest

from platform_sandbox.media.synthetic import generate
from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
V = "/graph.facebook.com/v23.0"
TO = "16315555555"
DATE_TIME = {
    "fallback_value": "February 25, 1977",
    "calendar": "GREGORIAN",
    "day_of_month": 25,
    "day_of_week": 5,
    "hour": 15,
    "minute": 33,
    "month": 2,
    "year": 1977,
}
CURRENCY = {"fallback_value": "$100.99", "code": "USD", "amount_1000": 100990}


def examples(media_id: str, link: str) -> dict[str, dict[str, Any]]:
    body = {
        "type": "body",
        "parameters": [
            {"type": "text", "text": "text-string"},
            {"type": "currency", "currency": CURRENCY},
            {"type": "date_time", "date_time": DATE_TIME},
        ],
    }
    header = {"type": "header", "parameters": [{"type": "image", "image": {"link": link}}]}
    base = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": TO}
    return {
        "Send Text Message": base
        | {"type": "text", "text": {"body": "text-message-content", "preview_url": False}},
        "Send Text Message with Preview URL": {
            "messaging_product": "whatsapp",
            "to": TO,
            "text": {"body": "Please visit https://youtu.be/hpltvTEiRrY.", "preview_url": True},
        },
        "Send Image Message by ID": base | {"type": "image", "image": {"id": media_id}},
        "Send Image Message by URL": base | {"type": "image", "image": {"link": link}},
        "Send Video Message by URL": base
        | {"type": "video", "video": {"caption": "c", "link": link.replace(".jpg", ".mp4")}},
        "Send Document Message by URL": base
        | {"type": "document", "document": {"caption": "c", "link": link.replace(".jpg", ".pdf")}},
        "Send Reply to Text Message": base
        | {"context": {"message_id": "wamid.prev"}, "type": "text", "text": {"body": "reply"}},
        "Send Test Message": {
            "messaging_product": "whatsapp",
            "to": TO,
            "type": "template",
            "template": {"name": "hello_world", "language": {"code": "en_US"}},
        },
        "Send Message Template Text": base
        | {
            "type": "template",
            "template": {
                "name": "sample_text",
                "language": {"code": "en_US"},
                "components": [body],
            },
        },
        "Send Message Template Media": base
        | {
            "type": "template",
            "template": {
                "name": "sample_media",
                "language": {"code": "en_US", "policy": "deterministic"},
                "components": [header, body],
            },
        },
    }


async def test_openapi_request_examples_are_accepted(harness: SandboxHarness) -> None:
    waba, number = harness.demo.waba_id, harness.demo.phone_number_id
    for name, shape in (("sample_text", {}), ("sample_media", {"header_format": "IMAGE"})):
        await harness.client.post(
            "/_sandbox/whatsapp/templates",
            json={"waba_id": waba, "name": name, "body_params": 3} | shape,
        )
    await harness.client.post(
        "/_sandbox/whatsapp/inbound", json={"phone_number_id": number, "from": TO}
    )
    token = (await harness.token("system_user", "1", assets=[waba]))["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    upload = await harness.client.post(
        f"{V}/{number}/media",
        headers=auth,
        data={"messaging_product": "whatsapp"},
        files={"file": ("file.jpg", b"".join(generate("jpg", 2000)), "image/jpeg")},
    )
    cases = examples(upload.json()["id"], harness.media_url("image.jpg"))
    for name, body in cases.items():
        response = await harness.client.post(f"{V}/{number}/messages", headers=auth, json=body)
        assert response.status_code == 200, (name, response.text)
        payload = response.json()
        assert set(payload) == {"messaging_product", "contacts", "messages"}, name
        assert payload["contacts"] == [{"input": TO, "wa_id": TO}], name
        assert set(payload["messages"][0]) <= {"id", "message_status"}, name
