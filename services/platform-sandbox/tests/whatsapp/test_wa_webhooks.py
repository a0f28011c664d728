"""Status webhooks (platform-apis.md §3.4, security-reliability.md §3.1): `sent`, `delivered`,
`read` or `failed` with `errors[]`, signed with `X-Hub-Signature-256` over the raw body, with
optional duplicates and reordering; retries; the override callback of `subscribed_apps`."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest

from platform_sandbox.testing import SandboxHarness, WebhookInbox

pytestmark = pytest.mark.unit
V = "/graph.facebook.com/v23.0"
HOOK = "http://127.0.0.1:8140/webhooks/whatsapp"
SECRET = b"sandbox-meta-app-secret"


async def setup(h: SandboxHarness, **route: Any) -> tuple[WebhookInbox, str]:
    inbox = h.inbox(HOOK)
    await h.client.put("/_sandbox/webhooks/whatsapp", json={"url": HOOK} | route)
    token = (await h.token("system_user", "130000000000009", assets=[h.demo.waba_id]))[
        "access_token"
    ]
    return inbox, token


async def send(h: SandboxHarness, token: str, body: dict[str, Any]) -> str:
    response = await h.client.post(
        f"{V}/{h.demo.phone_number_id}/messages",
        json={"messaging_product": "whatsapp", "to": "16505551234"} | body,
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    wamid: str = response.json()["messages"][0]["id"]
    return wamid


def statuses(inbox: WebhookInbox) -> list[dict[str, Any]]:
    found = []
    for request in inbox.requests:
        for entry in json.loads(request.content)["entry"]:
            for change in entry["changes"]:
                found.extend(change["value"].get("statuses", []))
    return found


async def deliver_all(h: SandboxHarness) -> None:
    await h.settle()
    await h.client.post("/_sandbox/webhooks/deliver", params={"everything": "true"})


async def test_sent_delivered_read_signed_over_the_raw_body(harness: SandboxHarness) -> None:
    inbox, token = await setup(harness)
    await harness.client.post(
        "/_sandbox/whatsapp/inbound",
        json={"phone_number_id": harness.demo.phone_number_id, "from": "16505551234", "text": "hi"},
    )
    wamid = await send(harness, token, {"type": "text", "text": {"body": "Ready at 5/6 ✓"}})
    await deliver_all(harness)
    for request in inbox.requests:
        expected = "sha256=" + hmac.new(SECRET, request.content, hashlib.sha256).hexdigest()
        assert request.headers["x-hub-signature-256"] == expected
    payload = json.loads(inbox.requests[-1].content)
    assert payload["object"] == "whatsapp_business_account"
    value = payload["entry"][0]["changes"][0]["value"]
    assert payload["entry"][0]["id"] == harness.demo.waba_id
    assert value["metadata"]["phone_number_id"] == harness.demo.phone_number_id
    mine = [s for s in statuses(inbox) if s["id"] == wamid]
    assert [s["status"] for s in mine] == ["sent", "delivered", "read"]
    first = mine[0]
    assert {"id", "status", "timestamp", "recipient_id", "pricing"} <= set(first)
    assert first["timestamp"].isdigit()
    assert first["pricing"] == {
        "billable": False,
        "pricing_model": "PMP",
        "type": "free_customer_service",
        "category": "service",
    }
    inbound = json.loads(inbox.requests[0].content)["entry"][0]["changes"][0]["value"]
    assert inbound["messages"][0]["text"]["body"] == "hi"


async def test_meta_escapes_slashes_and_unicode_in_the_signed_body(harness: SandboxHarness) -> None:
    inbox, _ = await setup(harness)
    await harness.client.post(
        "/_sandbox/whatsapp/inbound",
        json={"phone_number_id": harness.demo.phone_number_id, "from": "1", "text": "a/b é"},
    )
    await deliver_all(harness)
    raw = inbox.requests[0].content
    assert b"a\\/b \\u00e9" in raw


async def test_outside_the_window_the_message_fails_with_131047(harness: SandboxHarness) -> None:
    inbox, token = await setup(harness)
    wamid = await send(harness, token, {"type": "text", "text": {"body": "late"}})
    await deliver_all(harness)
    [failed] = [s for s in statuses(inbox) if s["id"] == wamid]
    assert failed["status"] == "failed"
    error = failed["errors"][0]
    assert (error["code"], error["title"]) == (131047, "Re-engagement message")
    assert "24 hours" in error["error_data"]["details"]


async def test_undeliverable_recipient_fails_with_131026(harness: SandboxHarness) -> None:
    inbox, token = await setup(harness)
    await harness.client.post("/_sandbox/whatsapp/recipients", json={"wa_id": "16505551234"})
    wamid = await send(
        harness,
        token,
        {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}},
    )
    await deliver_all(harness)
    assert [s["errors"][0]["code"] for s in statuses(inbox) if s["id"] == wamid] == [131026]


async def test_linked_media_that_cannot_be_fetched_fails_with_131053(
    harness: SandboxHarness,
) -> None:
    inbox, token = await setup(harness)
    await harness.client.post(
        "/_sandbox/whatsapp/inbound",
        json={"phone_number_id": harness.demo.phone_number_id, "from": "16505551234"},
    )
    good = await send(
        harness, token, {"type": "image", "image": {"link": harness.media_url("a.jpg")}}
    )
    bad = await send(
        harness, token, {"type": "image", "image": {"link": harness.media_url("a.jpg", status=404)}}
    )
    await deliver_all(harness)
    by_id = {s["id"]: s for s in statuses(inbox) if s["status"] in ("sent", "failed")}
    assert by_id[good]["status"] == "sent"
    assert by_id[bad]["errors"][0]["code"] == 131053


async def test_template_pricing_category(harness: SandboxHarness) -> None:
    inbox, token = await setup(harness)
    wamid = await send(
        harness,
        token,
        {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}},
    )
    await deliver_all(harness)
    sent = next(s for s in statuses(inbox) if s["id"] == wamid)
    assert sent["pricing"]["category"] == "utility"
    assert sent["pricing"]["billable"] is True


async def test_duplicates_and_reordering(harness: SandboxHarness) -> None:
    inbox, token = await setup(harness, duplicate_probability=1.0, reorder=True)
    wamid = await send(
        harness,
        token,
        {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}},
    )
    await deliver_all(harness)
    order = [s["status"] for s in statuses(inbox) if s["id"] == wamid]
    assert order == ["read", "read", "delivered", "delivered", "sent", "sent"]


async def test_failed_deliveries_are_retried_then_given_up(
    make_harness: Callable[..., SandboxHarness],
) -> None:
    h = make_harness(webhooks={"max_attempts": 2, "retry_backoff_s": 1.0})
    inbox = h.inbox(HOOK, status=500)
    await h.client.put("/_sandbox/webhooks/whatsapp", json={"url": HOOK})
    await h.client.post(
        "/_sandbox/whatsapp/inbound", json={"phone_number_id": h.demo.phone_number_id, "from": "1"}
    )
    await h.client.post("/_sandbox/webhooks/deliver")
    assert len(inbox.requests) == 1
    state = (await h.client.get("/_sandbox/webhooks")).json()
    assert state["pending"][0]["attempts"] == 1
    h.sandbox.clock.advance(1)
    await h.client.post("/_sandbox/webhooks/deliver")
    state = (await h.client.get("/_sandbox/webhooks")).json()
    assert (len(inbox.requests), state["pending"], state["delivered"][0]["status"]) == (2, [], 500)


async def test_only_loopback_webhook_urls(harness: SandboxHarness) -> None:
    response = await harness.client.put(
        "/_sandbox/webhooks/whatsapp", json={"url": "https://hooks.example.com/wa"}
    )
    assert response.status_code == 400


async def test_without_a_url_nothing_is_queued(harness: SandboxHarness) -> None:
    token = (await harness.token("system_user", "1", assets=[harness.demo.waba_id]))["access_token"]
    await send(
        harness,
        token,
        {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}},
    )
    state = (await harness.client.get("/_sandbox/webhooks")).json()
    assert (state["pending"], state["skipped"]) == ([], 1)


async def test_subscribed_apps_override_callback_after_the_handshake(
    harness: SandboxHarness,
) -> None:
    override = "http://127.0.0.1:8141/hooks"
    inbox = harness.inbox(override)
    token = (await harness.token("system_user", "1", assets=[harness.demo.waba_id]))["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    url = f"{V}/{harness.demo.waba_id}/subscribed_apps"
    subscribed = await harness.client.post(
        url, headers=auth, data={"override_callback_uri": override, "verify_token": "vt"}
    )
    assert subscribed.json() == {"success": True}
    handshake = inbox.requests[0]
    assert (handshake.method, handshake.url.params["hub.verify_token"]) == ("GET", "vt")
    listed = (await harness.client.get(url, headers=auth)).json()["data"][0]
    assert listed["override_callback_uri"] == override
    await send(
        harness,
        token,
        {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}},
    )
    await deliver_all(harness)
    assert len(inbox.requests) == 4
    unreachable = await harness.client.post(
        url,
        headers=auth,
        data={"override_callback_uri": "http://127.0.0.1:9/x", "verify_token": "vt"},
    )
    assert unreachable.json()["error"]["code"] == 2200
