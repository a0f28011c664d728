"""WhatsApp Embedded Signup as Meta's JavaScript SDK delivers it, through the whole system
(issue 24, ADR 0019): the sandbox's popup hands a code and the session info's ids; Herald
connects the number, the app is subscribed to the WABA, the number is registered, and a
template message goes out through the new integration."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from tests.conftest import Connected

pytestmark = pytest.mark.e2e
TERMINAL = frozenset({"published", "failed", "partially_published", "cancelled"})


def _sandbox(connected: Connected, method: str, path: str, body: dict[str, Any]) -> Any:
    url = f"{connected.system.url('platform-sandbox')}/_sandbox{path}"
    response = httpx.request(method, url, json=body, timeout=30)
    assert response.status_code < 300, response.text
    return response.json()


@pytest.mark.timeout(300)
def test_embedded_signup_connects_registers_and_sends_a_template(connected: Connected) -> None:
    run = uuid.uuid4().hex[:8]
    user = _sandbox(connected, "POST", "/facebook/users", {"name": f"Customer {run}"})
    waba = _sandbox(connected, "POST", "/whatsapp/wabas", {"owner_user_id": user["id"]})
    number = _sandbox(
        connected,
        "POST",
        "/whatsapp/phone_numbers",
        {"waba_id": waba["id"], "display_phone_number": "+1 555-030-0001", "registered": False},
    )
    template = {"waba_id": waba["id"], "name": "hello_world", "language": "en_US"}
    _sandbox(connected, "POST", "/whatsapp/templates", template)
    popup = _sandbox(
        connected,
        "POST",
        "/whatsapp/embedded_signup",
        {"user_id": user["id"], "phone_number_id": number["id"]},
    )
    assert (popup["type"], popup["event"]) == ("WA_EMBEDDED_SIGNUP", "FINISH")

    answer = httpx.post(
        f"{connected.system.url('auth-service')}/v1/integrations/whatsapp/embedded-signup",
        json={"code": popup["code"]} | popup["data"],
        headers={"Authorization": f"Bearer {connected.api_key}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    (integration,) = answer.json()["integrations"]
    assert integration["account"]["registration"] == "registered_by_herald"
    accounts = connected.sandbox("/_sandbox/accounts")
    registered = next(n for n in accounts["phone_numbers"] if n["id"] == number["id"])
    assert registered["registered"] is True
    subscribed = next(w for w in accounts["wabas"] if w["id"] == waba["id"])
    assert subscribed["subscribed_apps"]

    to = f"+4479{int(run, 16) % 10**7:07d}"
    target = {
        "integration_id": integration["integration_id"],
        "platform": "whatsapp",
        "options": {
            "platform": "whatsapp",
            "template": {"name": "hello_world", "language": "en_US"},
            "recipients": [{"recipient_id": "r0", "to": to}],
        },
    }
    post_id = connected.post({"content": {}, "targets": [target]}, idempotency_key=f"es-{run}")
    deadline = time.monotonic() + 180
    while (status := connected.status(post_id))["status"] not in TERMINAL:
        assert time.monotonic() < deadline, status
        time.sleep(1)
    assert status["status"] == "published", status
    query = {"platform": "whatsapp", "kind": "message_accepted", "account": number["id"]}
    sent = connected.sandbox("/_sandbox/ledger", **query)["entries"]
    assert [e["request"]["to"] for e in sent] == [to.lstrip("+")]
