"""auth-service running as it would in production (uvicorn, real Kafka and FerretDB): a connect
flow through its public URL, events on `integration.events`, platform callbacks about grants."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from pymongo.asynchronous.database import AsyncDatabase

from auth_service.app import create_app
from auth_service.signatures import sign_request
from auth_service.testing import (
    Live,
    Sandbox,
    auth_settings,
    callback_query,
    through_start_link,
)
from herald.cloudevents import Envelope, decode
from herald.mongo import Document
from herald.testkit.servers import ServerThread, free_port
from herald.topics import INTEGRATION_EVENTS
from herald_localstack.pytest_plugin import InfraEndpoints

pytestmark = pytest.mark.connected
META_SECRET = "sandbox-meta-app-secret"


async def _connect(live: Live, sandbox: Sandbox, key: str, provider: str, **extra: str) -> Any:
    auth = {"Authorization": f"Bearer {key}"}
    login = {"login": extra.pop("login")} if "login" in extra else None
    started = await live.client.get(f"/v1/oauth/{provider}/connect", headers=auth, params=login)
    # live.client is the browser too: it keeps the start link's cookie for the callback.
    url = await through_start_link(live.client, started.json()["authorize_url"])
    url = url.copy_merge_params(extra)
    page = await sandbox.http.get(url, follow_redirects=False)
    location = page.headers["location"]
    assert location.startswith(f"{live.url}/v1/oauth/{provider}/callback")
    done = await live.client.get(
        f"/v1/oauth/{provider}/callback",
        params=callback_query(location),
        headers={"Accept": "application/json"},
    )
    assert done.status_code == 200, done.text
    return done.json()["integrations"]


async def _events(infra: InfraEndpoints, keys: set[str], count: int) -> list[Envelope]:
    consumer = AIOKafkaConsumer(
        INTEGRATION_EVENTS,
        bootstrap_servers=infra.kafka_bootstrap,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    found: list[Envelope] = []
    deadline = time.monotonic() + 30
    try:
        while len(found) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    if record.key is not None and record.key.decode() in keys:
                        headers = {k: v.decode() for k, v in record.headers}
                        found.append(decode(record.value or b"", headers))
    finally:
        await consumer.stop()
    return found


async def test_live_connect_emits_to_kafka_and_meta_deauthorize_disconnects(
    live: Live, sandbox: Sandbox, infra: InfraEndpoints
) -> None:
    _, key = await live.business_with_key()
    (integration,) = await _connect(live, sandbox, key, "facebook")
    iid = integration["integration_id"]
    demo = (await sandbox.admin("GET", "/accounts"))["demo"]

    signed = sign_request(
        {"algorithm": "HMAC-SHA256", "issued_at": int(time.time()), "user_id": demo["user_id"]},
        META_SECRET,
    )
    forged = sign_request({"algorithm": "HMAC-SHA256", "user_id": demo["user_id"]}, "wrong")
    refused = await live.client.post(
        "/v1/webhooks/meta/deauthorize", data={"signed_request": forged}
    )
    assert refused.status_code == 401
    answered = await live.client.post(
        "/v1/webhooks/meta/deauthorize", data={"signed_request": signed}
    )
    assert answered.json() == {"disconnected": 1}

    listed = await live.client.get("/v1/integrations", headers={"Authorization": f"Bearer {key}"})
    assert listed.json()["integrations"][0]["status"] == "disconnected"
    assert listed.json()["integrations"][0]["reason"] == "deauthorized"
    envelopes = await _events(infra, {iid}, 2)
    assert [e.type for e in envelopes] == [
        "herald.integration.connected.v1",
        "herald.integration.disconnected.v1",
    ]
    assert envelopes[0].subject == iid
    assert envelopes[0].source == "herald/auth-service"


async def test_data_deletion_answers_what_meta_expects(
    live: Live, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    _, key = await live.business_with_key()
    (integration,) = await _connect(live, sandbox, key, "instagram", login="facebook")
    demo = (await sandbox.admin("GET", "/accounts"))["demo"]
    now = int(time.time())
    payload = {"algorithm": "HMAC-SHA256", "issued_at": now, "user_id": demo["user_id"]}
    signed = sign_request(payload, META_SECRET)

    answered = await live.client.post(
        "/v1/webhooks/meta/data-deletion", data={"signed_request": signed}
    )

    body = answered.json()
    assert set(body) == {"url", "confirmation_code"}
    assert body["url"] == f"{live.url}/v1/webhooks/meta/data-deletion/{body['confirmation_code']}"
    status = await live.client.get(body["url"].removeprefix(live.url))
    assert status.json() == {
        "confirmation_code": body["confirmation_code"],
        "status": "completed",
        "integrations": 1,
    }
    doc = await mongo_db["integrations"].find_one({"_id": integration["integration_id"]})
    assert doc is not None
    assert doc["status"] == "disconnected"
    assert doc["secrets"] == {}
    assert doc["account_name"] is None


async def test_tiktok_authorization_removed_webhook_from_the_sandbox(
    live: Live, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    _, key = await live.business_with_key()
    creator = await sandbox.admin("POST", "/tiktok/users", json={"username": "leaving"})
    (integration,) = await _connect(live, sandbox, key, "tiktok", sandbox_user=creator["open_id"])
    route = {"url": f"{live.url}/v1/webhooks/tiktok"}
    await sandbox.admin("PUT", "/webhooks/tiktok", json=route)
    try:
        await sandbox.admin("POST", "/tiktok/deauthorize", json={"open_id": creator["open_id"]})
        doc: dict[str, Any] | None = None
        for _ in range(100):
            doc = await mongo_db["integrations"].find_one({"_id": integration["integration_id"]})
            if doc is not None and doc["status"] == "disconnected":
                break
            await asyncio.sleep(0.1)
    finally:
        await sandbox.admin("PUT", "/webhooks/tiktok", json={"url": None})
    assert doc is not None
    assert doc["status"] == "disconnected"
    assert doc["reason"] == "authorization_removed:1"
    unsigned = await live.client.post("/v1/webhooks/tiktok", content=b"{}")
    assert unsigned.status_code == 401


async def test_the_background_loop_refreshes_ahead_of_expiry(
    infra: InfraEndpoints, mongo_db: AsyncDatabase[Document], sandbox: Sandbox
) -> None:
    port = free_port()
    settings = auth_settings(
        infra.kafka_bootstrap,
        infra.mongo_uri,
        mongo_db.name,
        sandbox.url,
        public_base_url=f"http://127.0.0.1:{port}",
        refresh={"enabled": True, "interval_s": 0.2},
    )
    server = ServerThread(create_app(settings), port).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            live = Live(server, client, settings)
            _, key = await live.business_with_key()
            creator = await sandbox.admin("POST", "/tiktok/users", json={"username": "looped"})
            (integration,) = await _connect(
                live, sandbox, key, "tiktok", sandbox_user=creator["open_id"]
            )
            iid = integration["integration_id"]
            soon = datetime.now(UTC) + timedelta(minutes=5)
            await mongo_db["integrations"].update_one({"_id": iid}, {"$set": {"expires_at": soon}})
            doc: dict[str, Any] | None = None
            for _ in range(150):
                doc = await mongo_db["integrations"].find_one({"_id": iid})
                if doc is not None and doc.get("last_refresh_at") is not None:
                    break
                await asyncio.sleep(0.1)
            assert doc is not None
            assert doc["last_refresh_at"] is not None
            assert doc["expires_at"] > soon
            wanted = [
                'herald_auth_integrations{provider="tiktok",status="active"} 1.0',
                'herald_auth_vault_records{kid="k1"} 2.0',  # its access and refresh tokens
                'herald_auth_token_refresh_total{outcome="refreshed",provider="tiktok"} 1.0',
            ]
            metrics = ""
            for _ in range(50):  # the gauges move at the end of the pass that refreshed
                metrics = (await client.get("/metrics")).text
                if all(line in metrics for line in wanted):
                    break
                await asyncio.sleep(0.1)
            assert [line for line in wanted if line not in metrics] == []
    finally:
        server.stop()
