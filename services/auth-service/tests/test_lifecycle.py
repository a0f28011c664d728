"""Refresh passes, expiry, network failures, checks and disconnects, against the sandbox."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from auth_service.handlers.maintenance import maintenance_pass, refresh_pass
from auth_service.testing import Sandbox, World, WorldFactory, emitted
from herald.events import (
    IntegrationDisconnected,
    IntegrationExpired,
    IntegrationRefreshed,
)
from herald.mongo import Document
from herald.signatures import sign_tiktok

pytestmark = pytest.mark.connected

PUBLISHERS = {
    "tiktok": {"Authorization": "Bearer pubtt-" + "e5f6a7b8" * 5},
    "facebook": {"Authorization": "Bearer pubfb-" + "c9d0e1f2" * 5},
    "whatsapp": {"Authorization": "Bearer pubwa-" + "e7f8a9b0" * 5},
    "instagram": {"Authorization": "Bearer pubig-" + "a3b4c5d6" * 5},
}
META_SECRET = "sandbox-meta-app-secret"


async def _token(world: World, integration: dict[str, Any]) -> Any:
    return await world.client.get(
        f"/internal/v1/integrations/{integration['integration_id']}/token",
        params={"business_id": world.business_id},
        headers=PUBLISHERS[integration["platform"]],
    )


async def _tiktok_works(sandbox: Sandbox, token: str) -> bool:
    response = await sandbox.http.get(
        f"{sandbox.url}/open.tiktokapis.com/v2/user/info/",
        params={"fields": "open_id"},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.status_code == 200


async def _graph_works(sandbox: Sandbox, token: str, node: str) -> bool:
    proof = hmac.new(META_SECRET.encode(), token.encode(), hashlib.sha256).hexdigest()
    response = await sandbox.http.get(
        f"{sandbox.url}/graph.facebook.com/v23.0/{node}",
        params={"fields": "id", "appsecret_proof": proof},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.status_code == 200


async def _due_now(db: AsyncDatabase[Document], integration_id: str, **fields: Any) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=5)
    await db["integrations"].update_one(
        {"_id": integration_id}, {"$set": {k: soon if v is None else v for k, v in fields.items()}}
    )


async def _creator(sandbox: Sandbox, name: str) -> str:
    return str((await sandbox.admin("POST", "/tiktok/users", json={"username": name}))["open_id"])


async def test_refresh_pass_renews_a_tiktok_token_before_it_expires(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()
    integration = (await world.connect("tiktok", sandbox_user=await _creator(sandbox, "r1")))[0]
    old = (await _token(world, integration)).json()["access_token"]
    await _due_now(mongo_db, integration["integration_id"], expires_at=None)

    report = await maintenance_pass(world.components.deps)

    assert report.refreshed == 1
    new = (await _token(world, integration)).json()
    assert new["access_token"] != old
    assert await _tiktok_works(sandbox, new["access_token"])
    events = emitted(world.components).of_type(IntegrationRefreshed)
    assert [e.subject for e in events] == [integration["integration_id"]]
    doc = await mongo_db["integrations"].find_one({"_id": integration["integration_id"]})
    assert doc is not None
    assert doc["secrets"]["refresh"]["kid"] == "k1"
    assert doc["last_refresh_at"] is not None


async def test_invalid_grant_expires_the_integration_with_an_event(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()
    open_id = await _creator(sandbox, "r2")
    integration = (await world.connect("tiktok", sandbox_user=open_id))[0]
    await sandbox.admin("POST", "/tokens/revoke", json={"subject": open_id})
    await _due_now(mongo_db, integration["integration_id"], expires_at=None)

    report = await refresh_pass(world.components.deps)

    assert report.expired == 1
    (event,) = emitted(world.components).of_type(IntegrationExpired)
    assert event.subject == integration["integration_id"]
    answer = await _token(world, integration)
    assert answer.status_code == 409
    assert answer.json()["error"] == "needs_reauth"
    assert answer.json()["status"] == "expired"
    listed = await world.client.get("/v1/integrations", headers=world.auth)
    assert listed.json()["integrations"][0]["status"] == "expired"


async def test_network_failure_leaves_the_integration_for_a_retry(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()
    integration = (await world.connect("tiktok", sandbox_user=await _creator(sandbox, "r3")))[0]
    iid = integration["integration_id"]
    await _due_now(mongo_db, iid, expires_at=None)
    unreachable = await make_world(hosts={"open_tiktokapis": "http://127.0.0.1:9"})

    report = await refresh_pass(unreachable.components.deps)

    assert report.failed == 1
    doc = await mongo_db["integrations"].find_one({"_id": iid})
    assert doc is not None
    assert doc["status"] == "active"
    assert doc["refresh_failures"] == 1
    assert doc["next_attempt_at"] > datetime.now(UTC)
    assert emitted(unreachable.components).of_type(IntegrationExpired) == []
    # The stored refresh token was not touched: a reachable replica can still refresh.
    forced = await world.client.post(
        f"/internal/v1/integrations/{iid}/refresh",
        params={"business_id": world.business_id},
        headers=PUBLISHERS["tiktok"],
    )
    assert forced.status_code == 200
    assert await _tiktok_works(sandbox, forced.json()["access_token"])


async def test_facebook_refresh_renews_the_user_token_and_derives_the_page_token(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()
    integration = (await world.connect("facebook"))[0]
    iid = integration["integration_id"]
    await _due_now(mongo_db, iid, user_expires_at=None)

    report = await refresh_pass(world.components.deps)

    assert report.refreshed == 1
    token = (await _token(world, integration)).json()
    assert token["account"]["page_id"] == integration["account_id"]
    assert token["expires_at"] is None
    assert await _graph_works(sandbox, token["access_token"], integration["account_id"])
    doc = await mongo_db["integrations"].find_one({"_id": iid})
    assert doc is not None
    assert doc["user_expires_at"] > datetime.now(UTC) + timedelta(days=50)


async def test_whatsapp_business_token_is_checked_and_expires_when_revoked(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()
    integration = (await world.connect("whatsapp"))[0]
    iid = integration["integration_id"]
    stale = {"last_checked_at": datetime.now(UTC) - timedelta(days=2)}
    await mongo_db["integrations"].update_one({"_id": iid}, {"$set": stale})

    assert (await refresh_pass(world.components.deps)).checked == 1

    doc = await mongo_db["integrations"].find_one({"_id": iid})
    assert doc is not None
    await sandbox.admin("POST", "/tokens/revoke", json={"subject": doc["provider_user_id"]})
    await mongo_db["integrations"].update_one({"_id": iid}, {"$set": stale})
    assert (await refresh_pass(world.components.deps)).expired == 1
    assert (await _token(world, integration)).status_code == 409


async def test_disconnect_tiktok_revokes_at_the_platform(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()
    integration = (await world.connect("tiktok", sandbox_user=await _creator(sandbox, "bye")))[0]
    iid = integration["integration_id"]
    token = (await _token(world, integration)).json()["access_token"]

    response = await world.client.delete(f"/v1/integrations/{iid}", headers=world.auth)

    assert response.status_code == 200
    assert response.json()["provider_revoked"] is True
    assert response.json()["integration"]["status"] == "disconnected"
    assert not await _tiktok_works(sandbox, token)
    doc = await mongo_db["integrations"].find_one({"_id": iid})
    assert doc is not None
    assert doc["secrets"] == {}
    assert doc["reason"] == "disconnected_by_business"
    (event,) = emitted(world.components).of_type(IntegrationDisconnected)
    assert event.subject == iid
    again = await world.client.delete(f"/v1/integrations/{iid}", headers=world.auth)
    assert again.json()["provider_revoked"] is False
    assert len(emitted(world.components).of_type(IntegrationDisconnected)) == 1


async def test_a_tiktok_webhook_signed_by_the_previous_client_secret_is_accepted(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    """While the client secret is rotated, publisher-tiktok accepts a delivery signed by the
    previous one and forwards it here; a refusal (4xx) is not forwarded again, so the
    integration would stay connected."""
    world = await make_world(tiktok={"previous_client_secret": "old-client-secret"})
    open_id = await _creator(sandbox, "rotated")
    integration = (await world.connect("tiktok", sandbox_user=open_id))[0]
    event = {"event": "authorization.removed", "user_openid": open_id, "content": '{"reason":1}'}
    body = json.dumps(event).encode()
    now = int(time.time())

    async def deliver(secret: str) -> int:
        signature = {"TikTok-Signature": sign_tiktok(secret, body, now)}
        response = await world.client.post("/v1/webhooks/tiktok", content=body, headers=signature)
        return response.status_code

    assert await deliver("someone-elses-secret") == 401
    assert await deliver("old-client-secret") == 200
    doc = await mongo_db["integrations"].find_one({"_id": integration["integration_id"]})
    assert doc is not None
    assert doc["status"] == "disconnected"
    assert doc["reason"] == "authorization_removed:1"


async def test_disconnecting_one_page_keeps_the_shared_grant(
    make_world: WorldFactory, sandbox: Sandbox
) -> None:
    person = await sandbox.admin("POST", "/facebook/users", json={"name": "Two Pages"})
    for name in ("First Page", "Second Page"):
        await sandbox.admin(
            "POST", "/facebook/pages", json={"name": name, "owner_user_id": person["id"]}
        )
    world = await make_world()
    first, second = await world.connect("facebook", sandbox_user=person["id"])

    response = await world.client.delete(
        f"/v1/integrations/{first['integration_id']}", headers=world.auth
    )
    assert response.json()["provider_revoked"] is False  # the other Page still needs the grant
    still = (await _token(world, second)).json()["access_token"]
    assert await _graph_works(sandbox, still, second["account_id"])

    last = await world.client.delete(
        f"/v1/integrations/{second['integration_id']}", headers=world.auth
    )
    assert last.json()["provider_revoked"] is True
    assert not await _graph_works(sandbox, still, second["account_id"])


async def test_a_young_instagram_login_token_is_checked_not_refreshed(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    """Instagram refreshes a token only once it is 24 h old (platform-apis.md §2.1): before that
    a refresh is a check, so the answer is the working token and nothing reads as an error;
    a revoked young token still expires the integration."""
    world = await make_world()
    integration = (await world.connect("instagram"))[0]
    iid = integration["integration_id"]
    url = f"/v1/integrations/{iid}/refresh"

    refreshed = await world.client.post(url, headers=world.auth)

    assert refreshed.status_code == 200, refreshed.text
    doc = await mongo_db["integrations"].find_one({"_id": iid})
    assert doc is not None
    assert doc["status"] == "active"
    assert doc.get("last_error") is None
    assert doc.get("refresh_failures", 0) == 0
    token = (await _token(world, integration)).json()["access_token"]
    assert await _graph_works_instagram(sandbox, token)

    await sandbox.admin("POST", "/tokens/revoke", json={"subject": doc["provider_user_id"]})
    revoked = await world.client.post(url, headers=world.auth)
    assert revoked.status_code == 409, revoked.text
    assert revoked.json()["error"] == "needs_reauth"


async def _graph_works_instagram(sandbox: Sandbox, token: str) -> bool:
    response = await sandbox.http.get(
        f"{sandbox.url}/graph.instagram.com/me",
        params={"fields": "user_id"},
        headers={"Authorization": f"Bearer {token}"},
    )
    return response.status_code == 200
