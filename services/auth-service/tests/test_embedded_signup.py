"""WhatsApp Embedded Signup as the JavaScript SDK delivers it (issue 24, ADR 0018), against the
sandbox over HTTP: the number connected, the app subscribed, the number registered with a PIN
stored only sealed; and each refusal with its own code and message."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from bson import json_util
from pymongo.asynchronous.database import AsyncDatabase

from auth_service.app import dev_page_served
from auth_service.testing import Sandbox, World, WorldFactory, emitted
from herald.events import IntegrationConnected
from herald.mongo import Document

pytestmark = pytest.mark.connected
ROUTE = "/v1/integrations/whatsapp/embedded-signup"
V = "/graph.facebook.com/v23.0"
APP, SECRET = "100000000000001", "sandbox-meta-app-secret"  # the sandbox's Meta app


async def _customer(
    sandbox: Sandbox, *, registered: bool = False, pin: str | None = None
) -> dict[str, str]:
    """A sandbox person with a WABA of their own and a number added in Embedded Signup."""
    user = await sandbox.admin("POST", "/facebook/users", json={"name": "Signup Customer"})
    waba = await sandbox.admin("POST", "/whatsapp/wabas", json={"owner_user_id": user["id"]})
    number = {"waba_id": waba["id"], "display_phone_number": "+1 555-020-0001"}
    number |= {"verified_name": "Rye & Co", "registered": registered, "pin": pin}
    made = await sandbox.admin("POST", "/whatsapp/phone_numbers", json=number)
    return {"user_id": user["id"], "waba_id": waba["id"], "phone_number_id": made["id"]}


async def _signup(sandbox: Sandbox, customer: dict[str, str], **extra: Any) -> dict[str, str]:
    """What the popup hands the page: the code, and the session info's ids."""
    body = {"user_id": customer["user_id"], "phone_number_id": customer["phone_number_id"]}
    done = await sandbox.admin("POST", "/whatsapp/embedded_signup", json=body | extra)
    return {"code": done["code"]} | {k: v for k, v in done["data"].items() if v}


async def _refusal(world: World, body: dict[str, str]) -> dict[str, str]:
    answer = await world.client.post(ROUTE, json=body, headers=world.auth)
    assert answer.status_code == 400, answer.text
    refusal: dict[str, str] = answer.json()
    assert refusal["remediation"]
    return refusal


async def test_the_number_is_connected_subscribed_and_registered_with_a_sealed_pin(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()
    customer = await _customer(sandbox)
    signup = await _signup(sandbox, customer)

    answer = await world.client.post(ROUTE, json=signup, headers=world.auth)

    assert answer.status_code == 200, answer.text
    (integration,) = answer.json()["integrations"]
    assert integration["account_id"] == customer["phone_number_id"]
    assert integration["account_name"] == "Rye & Co"
    assert integration["status"] == "active"
    account = integration["account"]
    assert account["waba_id"] == customer["waba_id"]
    assert account["registration"] == "registered_by_herald"
    assert (account["status"], account["quality_rating"]) == ("CONNECTED", "GREEN")
    assert account["messaging_limit"] == "TIER_1K"
    events = emitted(world.components).of_type(IntegrationConnected)
    assert [e.subject for e in events] == [integration["integration_id"]]

    state = await sandbox.admin("GET", "/accounts")
    number = next(n for n in state["phone_numbers"] if n["id"] == customer["phone_number_id"])
    assert number["registered"] is True
    assert len(number["pin"]) == 6
    minted = {"kind": "system_user", "subject": "1", "assets": [number["waba_id"]]}
    token = (await sandbox.admin("POST", "/tokens", json=minted))["access_token"]
    proof = hmac.new(SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()
    subscribed = await sandbox.http.get(
        f"{sandbox.url}{V}/{customer['waba_id']}/subscribed_apps",
        params={"access_token": token, "appsecret_proof": proof},
    )
    assert [a["whatsapp_business_api_data"]["id"] for a in subscribed.json()["data"]] == [
        world.components.settings.meta.app_id
    ]
    stored = await mongo_db["integrations"].find_one({"_id": integration["integration_id"]})
    assert stored is not None
    assert set(stored["secrets"]) == {"access", "pin"}
    assert number["pin"] not in json_util.dumps(await mongo_db["integrations"].find({}).to_list())

    again = await _refusal(world, signup)
    assert again["error"] == "code_used"
    assert again["message"] == "this Embedded Signup code was redeemed already; a code works once"


async def test_a_registered_number_is_not_registered_again(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()
    customer = await _customer(sandbox, registered=True, pin="135790")

    answer = await world.client.post(
        ROUTE, json=await _signup(sandbox, customer), headers=world.auth
    )

    assert answer.status_code == 200, answer.text
    (integration,) = answer.json()["integrations"]
    assert integration["account"]["registration"] == "already_registered"
    stored = await mongo_db["integrations"].find_one({"_id": integration["integration_id"]})
    assert stored is not None
    assert set(stored["secrets"]) == {"access"}


async def test_each_refusal_names_its_cause(make_world: WorldFactory, sandbox: Sandbox) -> None:
    world = await make_world()
    customer = await _customer(sandbox)
    messages: dict[str, str] = {}

    used = await _signup(sandbox, customer)
    await sandbox.http.post(  # redeemed elsewhere first: Graph answers 100/36009
        f"{sandbox.url}{V}/oauth/access_token",
        data={"client_id": APP, "client_secret": SECRET, "code": used["code"]},
    )
    refusal = await _refusal(world, used)
    assert refusal["error"] == "code_used"
    messages["code_used"] = refusal["message"]

    late = await _signup(sandbox, customer)
    await sandbox.admin("POST", "/clock/advance", json={"seconds": 601})
    refusal = await _refusal(world, late)
    assert refusal["error"] == "code_expired"
    messages["code_expired"] = refusal["message"]

    other = await _customer(sandbox)
    foreign = await _signup(sandbox, customer) | {"waba_id": other["waba_id"]}
    refusal = await _refusal(world, foreign)
    assert (refusal["error"], refusal["not_granted"]) == ("assets_not_granted", other["waba_id"])
    assert other["waba_id"] in refusal["message"]
    messages["assets_not_granted"] = refusal["message"]
    stray = await _signup(sandbox, customer) | {"phone_number_id": other["phone_number_id"]}
    refusal = await _refusal(world, stray)
    assert refusal["not_granted"] == other["phone_number_id"]
    assert f"phone number {other['phone_number_id']}" in refusal["message"]

    partial = await _signup(sandbox, customer, scopes=["whatsapp_business_management"])
    refusal = await _refusal(world, partial)
    assert (refusal["error"], refusal["missing"]) == (
        "missing_permission",
        "whatsapp_business_messaging",
    )
    messages["missing_permission"] = refusal["message"]

    guarded = await _customer(sandbox, pin="246810")
    refusal = await _refusal(world, await _signup(sandbox, guarded) | {"pin": "111111"})
    assert refusal["error"] == "pin_mismatch"
    messages["pin_mismatch"] = refusal["message"]
    refusal = await _refusal(world, await _signup(sandbox, guarded))
    assert refusal["error"] == "number_registered_elsewhere"
    messages["number_registered_elsewhere"] = refusal["message"]

    assert len(set(messages.values())) == len(messages)

    rule: dict[str, Any] = {"platform": "whatsapp", "endpoint": "register", "count": 1}
    rule |= {"account": guarded["phone_number_id"], "error": {"status": 500, "code": 2}}
    await sandbox.admin("POST", "/faults", json=rule)
    down = await _signup(sandbox, guarded) | {"pin": "246810"}
    unavailable = await world.client.post(ROUTE, json=down, headers=world.auth)
    assert (unavailable.status_code, unavailable.json()["error"]) == (503, "provider_unavailable")
    listed = await world.client.get("/v1/integrations", headers=world.auth)
    assert listed.json()["integrations"] == []

    right = await _signup(sandbox, guarded) | {"pin": "246810"}
    connected = await world.client.post(ROUTE, json=right, headers=world.auth)
    assert connected.status_code == 200, connected.text


async def test_the_dev_page_is_served_in_local_runs_against_the_sandbox_only(
    make_world: WorldFactory, sandbox: Sandbox
) -> None:
    world = await make_world()
    page = await world.client.get("/dev/embedded-signup")
    assert page.status_code == 200
    assert sandbox.url in page.text
    assert "WA_EMBEDDED_SIGNUP" in page.text
    settings = world.components.settings
    assert dev_page_served(settings)
    assert not dev_page_served(settings.model_copy(update={"environment": "production"}))
    served = await world.client.get("/openapi.json")
    assert "/dev/embedded-signup" not in served.json()["paths"]
