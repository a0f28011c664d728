"""Webhook freshness and replay (issue 19, finding 7; docs/security.md, "Webhooks"): Meta's
deauthorize and data-deletion callbacks refuse an `issued_at` outside the tolerance; every
callback is acted on once, so a replay inside the window cannot disconnect an account connected
again since; a delivery whose handling failed is taken when the platform retries. TikTok's
header with non-ASCII digits or bytes is a 401 at the route, never a 500."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from auth_service.handlers.base import lock_name
from auth_service.handlers.maintenance import MARKS_KEPT_S, sweep
from auth_service.signatures import sign_request
from auth_service.testing import Sandbox, World, WorldFactory
from herald.mongo import Document
from herald.signatures import sign_tiktok

pytestmark = pytest.mark.connected
META_SECRET = "sandbox-meta-app-secret"
TIKTOK_SECRET = "sandbox-tiktok-client-secret"
DEAUTHORIZE, DELETION = "/v1/webhooks/meta/deauthorize", "/v1/webhooks/meta/data-deletion"


def signed(user_id: str, **payload: Any) -> dict[str, str]:
    fields = {"algorithm": "HMAC-SHA256", "issued_at": int(time.time()), "user_id": user_id}
    return {"signed_request": sign_request(fields | payload, META_SECRET)}


async def status_of(db: AsyncDatabase[Document], integration: dict[str, Any]) -> str:
    doc = await db["integrations"].find_one({"_id": integration["integration_id"]})
    assert doc is not None
    return str(doc["status"])


async def facebook_user(sandbox: Sandbox) -> str:
    return str((await sandbox.admin("GET", "/accounts"))["demo"]["user_id"])


STALE = [
    (978_307_200, "ago"),  # 2001-01-01, the finding's example
    (-3_601, "ago"),  # relative to now, as the rest
    (3_700, "ahead"),
    (None, "no issued_at"),
    ("1790000000", "no issued_at"),
    (1e30, "no issued_at"),
    (10**400, "ahead"),
]


async def test_a_signed_request_outside_the_tolerance_is_refused(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()
    (page,) = await world.connect("facebook")
    user = await facebook_user(sandbox)
    for issued_at, why in STALE:
        payload: dict[str, Any] = {"algorithm": "HMAC-SHA256", "user_id": user}
        if isinstance(issued_at, int) and abs(issued_at) < 10**6:
            payload["issued_at"] = int(time.time()) + issued_at
        elif issued_at is not None:
            payload["issued_at"] = issued_at
        form = {"signed_request": sign_request(payload, META_SECRET)}
        for path in (DEAUTHORIZE, DELETION):
            refused = await world.client.post(path, data=form)
            assert refused.status_code == 401, (issued_at, refused.text)
            assert refused.json()["error"] == "invalid_signature"
            assert why in refused.json()["message"], (issued_at, refused.text)
    assert await status_of(mongo_db, page) == "active"
    fresh = await world.client.post(DEAUTHORIZE, data=signed(user))
    assert fresh.json() == {"disconnected": 1}


async def test_a_replayed_meta_callback_cannot_disconnect_the_account_connected_again(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()
    (page,) = await world.connect("facebook")
    form = signed(await facebook_user(sandbox))

    first = await world.client.post(DEAUTHORIZE, data=form)
    assert first.json() == {"disconnected": 1}
    (again,) = await world.connect("facebook")
    assert again["integration_id"] == page["integration_id"]
    assert await status_of(mongo_db, page) == "active"

    for path in (DEAUTHORIZE, DELETION):  # one mark space: the other URL refuses it too
        replay = await world.client.post(path, data=form)
        assert replay.status_code == 409, replay.text
        assert replay.json()["error"] == "replayed_delivery"
    assert await status_of(mongo_db, page) == "active"
    assert await mongo_db["deletion_requests"].count_documents({}) == 0


async def test_a_replayed_data_deletion_request_is_refused(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()
    await world.connect("instagram", login="facebook")
    form = signed(await facebook_user(sandbox))
    first = await world.client.post(DELETION, data=form)
    assert set(first.json()) == {"url", "confirmation_code"}
    replay = await world.client.post(DELETION, data=form)
    assert (replay.status_code, replay.json()["error"]) == (409, "replayed_delivery")
    assert await mongo_db["deletion_requests"].count_documents({}) == 1


def removal(open_id: str) -> bytes:
    event = {
        "client_key": "sbawsandboxclientkey",
        "event": "authorization.removed",
        "create_time": int(time.time()),
        "user_openid": open_id,
        "content": json.dumps({"reason": 1}),
    }
    return json.dumps(event).encode()


async def deliver(world: World, body: bytes, header: str | bytes) -> Any:
    raw = header if isinstance(header, bytes) else header.encode()
    headers = {b"TikTok-Signature": raw, b"Content-Type": b"application/json"}
    return await world.client.post("/v1/webhooks/tiktok", content=body, headers=headers)


async def test_a_replayed_tiktok_removal_cannot_disconnect_the_account_connected_again(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()
    creator = await sandbox.admin("POST", "/tiktok/users", json={"username": "replayed"})
    (account,) = await world.connect("tiktok", sandbox_user=creator["open_id"])
    body = removal(creator["open_id"])
    header = sign_tiktok(TIKTOK_SECRET, body, int(time.time()))

    assert (await deliver(world, body, header)).json() == {"disconnected": 1}
    await world.connect("tiktok", sandbox_user=creator["open_id"])
    assert await status_of(mongo_db, account) == "active"

    replay = await deliver(world, body, header)
    assert (replay.status_code, replay.json()["error"]) == (409, "replayed_delivery")
    # The same delivery signed again (a new `t`) is still the same event.
    resigned = await deliver(world, body, sign_tiktok(TIKTOK_SECRET, body, int(time.time()) + 1))
    assert resigned.status_code == 409
    assert await status_of(mongo_db, account) == "active"


async def test_a_delivery_whose_handling_failed_is_taken_when_retried(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world(refresh={"enabled": False, "wait_s": 0.2})
    (page,) = await world.connect("facebook")
    form = signed(await facebook_user(sandbox))
    deps = world.components.deps
    name = lock_name(page["integration_id"])
    assert await deps.locks.acquire(name, "someone-else", deps.clock.now(), 30)

    busy = await world.client.post(DEAUTHORIZE, data=form)
    assert busy.status_code == 503, busy.text
    await deps.locks.release(name, "someone-else")
    retried = await world.client.post(DEAUTHORIZE, data=form)
    assert retried.json() == {"disconnected": 1}
    assert await status_of(mongo_db, page) == "disconnected"


@pytest.mark.parametrize(
    "header",
    [
        "t=١٧٩٠٠٠٠٠٠٠,s=" + "0" * 64,  # Arabic-Indic digits: digits to str.isdigit, not to us
        "t=" + "\uff11" * 10 + ",s=" + "0" * 64,  # fullwidth digits
        "t=1790000000,s=" + "é" * 64,
        "t=1790000000,s=" + "0" * 63 + "\u0660",
    ],
    ids=["arabic-digits", "fullwidth-digits", "accented-signature", "one-non-ascii-digit"],
)
async def test_a_tiktok_header_with_non_ascii_digits_or_bytes_is_401(
    make_world: WorldFactory, header: str
) -> None:
    world = await make_world()
    body = removal("someone")
    response = await deliver(world, body, header.encode("utf-8"))
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_signature"


async def test_the_sweep_deletes_old_marks_and_expired_states_without_the_refresh_loop(
    make_world: WorldFactory, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()  # refresh disabled: the app runs the sweep loop instead
    now = datetime.now(UTC)
    old = now - timedelta(seconds=MARKS_KEPT_S + 60)
    await mongo_db["webhook_deliveries"].insert_many(
        [{"_id": "meta:old", "at": old}, {"_id": "meta:new", "at": now}]
    )
    await world.client.get("/v1/oauth/tiktok/connect", headers=world.auth)
    await mongo_db["oauth_states"].update_many({}, {"$set": {"expires_at": now - timedelta(1)}})

    removed = await sweep(world.components.deps)

    assert removed >= 2
    kept = [d["_id"] async for d in mongo_db["webhook_deliveries"].find({})]
    assert kept == ["meta:new"]
    assert await mongo_db["oauth_states"].count_documents({}) == 0
