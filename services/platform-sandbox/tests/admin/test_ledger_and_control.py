"""The admin API: the ledger (by account, marker, text, duplicates), reset, clock, accounts."""

from __future__ import annotations

import pytest

from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
V = "/graph.facebook.com/v23.0"


async def post(h: SandboxHarness, page_id: str, message: str, marker: str | None = None) -> None:
    token = (await h.token("page", page_id))["access_token"]
    headers = {"X-Sandbox-Marker": marker} if marker else {}
    response = await h.client.post(
        f"{V}/{page_id}/feed", headers=headers, data={"message": message, "access_token": token}
    )
    assert response.status_code == 200, response.text


async def test_ledger_queries(harness: SandboxHarness) -> None:
    other = (
        await harness.client.post(
            "/_sandbox/facebook/pages",
            json={"name": "Second", "owner_user_id": harness.demo.user_id},
        )
    ).json()["id"]
    await post(harness, harness.demo.page_id, "one herald-marker:t-1")
    await post(harness, harness.demo.page_id, "two", marker="t-2")
    await post(harness, other, "again herald-marker:t-1")

    async def count(**query: str | int) -> int:
        body = (await harness.client.get("/_sandbox/ledger", params=query)).json()
        value: int = body["count"]
        return value

    assert await count(account=harness.demo.page_id) == 2
    assert await count(marker="t-1") == 2
    assert await count(marker="t-2") == 1
    assert await count(contains="again") == 1
    assert await count(since_seq=2) == 1
    duplicates = await harness.client.get(
        "/_sandbox/ledger/duplicates", params={"platform": "facebook"}
    )
    assert duplicates.json() == {"duplicates": {"t-1": 2}}
    await harness.client.delete("/_sandbox/ledger")
    assert await count() == 0


async def test_reset_forgets_everything_and_reseeds(harness: SandboxHarness) -> None:
    await post(harness, harness.demo.page_id, "before")
    harness.sandbox.clock.advance(100)
    await harness.client.post("/_sandbox/faults", json={"platform": "tiktok"})
    await harness.client.put("/_sandbox/webhooks/tiktok", json={"url": "http://127.0.0.1:1/h"})
    reset = (await harness.client.post("/_sandbox/reset")).json()
    assert reset["demo"]["page_id"] == harness.demo.page_id
    assert (await harness.client.get("/_sandbox/ledger")).json()["count"] == 0
    assert (await harness.client.get("/_sandbox/faults")).json()["faults"] == []
    assert (await harness.client.get("/_sandbox/clock")).json()["offset_s"] == 0
    routes = (await harness.client.get("/_sandbox/webhooks")).json()["routes"]
    assert routes["tiktok"]["url"] is None


async def test_clock_only_moves_forward(harness: SandboxHarness) -> None:
    moved = await harness.client.post("/_sandbox/clock/advance", json={"seconds": 3600})
    assert moved.json()["offset_s"] == 3600
    backwards = await harness.client.post("/_sandbox/clock/advance", json={"seconds": -1})
    assert backwards.status_code == 422


async def test_accounts_listing_and_creation(harness: SandboxHarness) -> None:
    waba = (await harness.client.post("/_sandbox/whatsapp/wabas", json={"name": "W"})).json()
    number = await harness.client.post(
        "/_sandbox/whatsapp/phone_numbers",
        json={
            "waba_id": waba["id"],
            "display_phone_number": "+1 555 010 0009",
            "throughput_mps": 1000,
        },
    )
    template = await harness.client.post(
        "/_sandbox/whatsapp/templates",
        json={
            "waba_id": waba["id"],
            "name": "receipt",
            "body_params": 1,
            "buttons": [{"sub_type": "quick_reply"}],
        },
    )
    creator = await harness.client.post(
        "/_sandbox/tiktok/users", json={"username": "new", "private_account": True}
    )
    ig = await harness.client.post("/_sandbox/instagram/accounts", json={"username": "solo"})
    assert {r.status_code for r in (number, template, creator, ig)} == {201}
    listing = (await harness.client.get("/_sandbox/accounts")).json()
    assert {t["name"] for t in listing["templates"]} >= {"receipt", "hello_world"}
    assert any(c["private_account"] for c in listing["tiktok_creators"])
    missing = await harness.client.post(
        "/_sandbox/whatsapp/phone_numbers", json={"waba_id": "0", "display_phone_number": "1"}
    )
    assert missing.status_code == 404


async def test_prefixes_must_be_loopback(harness: SandboxHarness) -> None:
    remote = await harness.client.post(
        "/_sandbox/tiktok/verified_prefixes", json={"prefix": "https://cdn.example.com/"}
    )
    assert remote.status_code == 400


async def test_minted_tokens_can_be_expired_and_revoked(harness: SandboxHarness) -> None:
    token = (await harness.token("user_long", harness.demo.user_id))["access_token"]
    assert (
        await harness.client.post("/_sandbox/tokens/expire", json={"token": token})
    ).status_code == 200
    error = (await harness.client.get(f"{V}/me", params={"access_token": token})).json()["error"]
    assert error["error_subcode"] == 463
    revoked = await harness.client.post(
        "/_sandbox/tokens/revoke", json={"subject": harness.demo.user_id, "subcode": 460}
    )
    assert revoked.json()["revoked"] >= 1
    assert (
        await harness.client.post("/_sandbox/tokens/expire", json={"token": "nope"})
    ).status_code == 404
