"""The full connect flow of each provider against the sandbox over HTTP, ending in stored
integrations whose tokens exist only as vault envelopes."""

from __future__ import annotations

import base64
import binascii

import pytest
from bson import json_util
from pymongo.asynchronous.database import AsyncDatabase

from auth_service.testing import Sandbox, WorldFactory, emitted, recorder
from herald.events import IntegrationConnected
from herald.mongo import Document

pytestmark = pytest.mark.connected


def _encodings(token: str) -> set[str]:
    raw = token.encode()
    forms = {
        token,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        binascii.hexlify(raw).decode(),
    }
    return forms | {f.rstrip("=") for f in forms}


async def _dump(db: AsyncDatabase[Document]) -> str:
    parts = []
    for name in await db.list_collection_names():
        parts.extend([json_util.dumps(doc) async for doc in db[name].find({})])
    return "\n".join(parts)


async def test_four_providers_connect_and_no_token_is_stored_in_the_clear(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()
    creator = await sandbox.admin("POST", "/tiktok/users", json={"username": "flow.creator"})

    facebook = await world.connect("facebook")
    instagram = await world.connect("instagram", login="facebook")
    whatsapp = await world.connect("whatsapp")
    tiktok = await world.connect("tiktok", sandbox_user=creator["open_id"])

    demo = (await sandbox.admin("GET", "/accounts"))["demo"]
    assert [i["account_id"] for i in facebook] == [demo["page_id"]]
    assert facebook[0]["account"] == {"page_id": demo["page_id"]}
    assert [i["account_id"] for i in instagram] == [demo["ig_user_id"]]
    assert instagram[0]["account"]["page_id"] == demo["page_id"]
    assert [i["account_id"] for i in whatsapp] == [demo["phone_number_id"]]
    assert whatsapp[0]["account"]["waba_id"] == demo["waba_id"]
    assert [i["account_id"] for i in tiktok] == [creator["open_id"]]
    assert "video.publish" in tiktok[0]["scopes"]
    assert all(i["status"] == "active" for i in facebook + instagram + whatsapp + tiktok)

    stored = await mongo_db["integrations"].find({}).to_list()
    assert len(stored) == 4
    assert {d["business_id"] for d in stored} == {world.business_id}
    for doc in stored:
        for envelope in doc["secrets"].values():
            assert set(envelope) == {"v", "kid", "nonce", "ct"}
            assert envelope["kid"] == "k1"

    events = emitted(world.components).of_type(IntegrationConnected)
    assert {e.subject for e in events} == {d["_id"] for d in stored}

    issued = recorder(world.components).issued_tokens()
    assert len(issued) >= 6  # user, page, business, TikTok access and refresh tokens at least
    dump = await _dump(mongo_db)
    leaks = [t[:8] for t in issued for form in _encodings(t) if form in dump]
    assert leaks == []


async def test_instagram_login_connects_the_professional_account(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()
    connected = await world.connect("instagram")

    demo = (await sandbox.admin("GET", "/accounts"))["demo"]
    assert [i["account_id"] for i in connected] == [demo["ig_user_id"]]
    assert connected[0]["account"]["login"] == "instagram"
    assert connected[0]["expires_at"] is not None  # a 60-day Instagram-login token
    doc = await mongo_db["integrations"].find_one({"_id": connected[0]["integration_id"]})
    assert doc is not None
    assert doc["auth_server"] == "instagram"
    assert doc["mode"] == "exchange"
    calls = recorder(world.components).calls
    assert all("access_token=" not in c.url for c in calls)


async def test_every_graph_call_is_signed_and_tokens_stay_out_of_urls(
    make_world: WorldFactory,
) -> None:
    world = await make_world()
    await world.connect("facebook")
    await world.connect("whatsapp")

    calls = recorder(world.components).calls
    issued = recorder(world.components).issued_tokens()
    graph = [c for c in calls if "/graph.facebook.com/" in c.url and "oauth" not in c.url]
    assert graph, "expected Graph calls"
    # The sandbox requires appsecret_proof; every call it accepted carried a valid one.
    assert all(c.status == 200 for c in graph), [(c.url, c.status) for c in graph]
    not_debug = [c for c in calls if "/debug_token" not in c.url]
    assert [c.url for c in not_debug if any(t in c.url for t in issued)] == []
