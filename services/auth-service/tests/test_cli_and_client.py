"""The admin commands (`python -m auth_service admin ...`) and `herald.authclient` against a
running auth-service: the contract other services rely on, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from auth_service.testing import (
    KEY_1,
    KEY_2,
    SERVICE_TOKENS,
    Live,
    Sandbox,
    callback_query,
    through_start_link,
)
from herald.authclient import AuthClient, IntegrationNotFound
from herald.errors import NeedsReauth
from herald.mongo import Document
from herald_localstack.pytest_plugin import InfraEndpoints

pytestmark = pytest.mark.connected


def _admin(infra: InfraEndpoints, database: str, *args: str, **env: str) -> Any:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    environ |= {
        "HERALD_MONGO_URI": infra.mongo_uri,
        "HERALD_KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
        "HERALD_AUTH_DATABASE": database,
        "HERALD_AUTH_VAULT__KEYS": json.dumps({"k1": KEY_1}),
        "HERALD_AUTH_VAULT__PRIMARY_KID": "k1",
        "HERALD_LOG_LEVEL": "WARNING",
    } | env
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "auth_service", "admin", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_admin_commands(infra: InfraEndpoints, mongo_db: AsyncDatabase[Document]) -> None:
    db = mongo_db.name
    business = _admin(infra, db, "create-business", "--name", "Corner Shop")
    issued = _admin(
        infra,
        db,
        "create-api-key",
        "--business",
        business["business_id"],
        "--scopes",
        "posts:write,integrations:read",
    )
    assert issued["key"].startswith(f"hk_{issued['key_id']}_")
    assert issued["scopes"] == ["integrations:read", "posts:write"]
    stored = await mongo_db["api_keys"].find_one({"_id": issued["key_id"]})
    assert stored is not None
    # The secret follows "hk_<key id>_" and may itself contain "_" (URL-safe base64).
    secret = issued["key"].removeprefix(f"hk_{issued['key_id']}_")
    assert secret
    assert secret not in json.dumps(stored, default=str)

    revoked = _admin(infra, db, "revoke-api-key", issued["key_id"])
    assert revoked["revoked_at"] is not None
    listed = _admin(infra, db, "list")
    (only,) = listed["businesses"]
    assert only["name"] == "Corner Shop"
    assert [k["key_id"] for k in only["api_keys"]] == [issued["key_id"]]
    assert "key" not in only["api_keys"][0]

    assert _admin(infra, db, "refresh", "--once") == {
        "refreshed": 0,
        "checked": 0,
        "expired": 0,
        "failed": 0,
        "busy": 0,
    }
    rotated = _admin(
        infra,
        db,
        "rotate-keys",
        HERALD_AUTH_VAULT__KEYS=json.dumps({"k1": KEY_1, "k2": KEY_2}),
        HERALD_AUTH_VAULT__PRIMARY_KID="k2",
    )
    assert rotated["primary_kid"] == "k2"
    assert rotated["failed"] == []


def test_admin_refuses_an_unfit_production_configuration(infra: InfraEndpoints) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    environ |= {"HERALD_AUTH_ENVIRONMENT": "production"}
    done = subprocess.run(
        [sys.executable, "-m", "auth_service", "admin", "list"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "HERALD_AUTH_VAULT__KEYS: is missing" in done.stderr


async def test_auth_client_against_the_running_service(live: Live, sandbox: Sandbox) -> None:
    business_id, key = await live.business_with_key()
    auth = {"Authorization": f"Bearer {key}"}
    creator = await sandbox.admin("POST", "/tiktok/users", json={"username": "client.user"})
    started = await live.client.get("/v1/oauth/tiktok/connect", headers=auth)
    url = (
        await through_start_link(live.client, started.json()["authorize_url"])
    ).copy_merge_params({"sandbox_user": creator["open_id"]})
    page = await sandbox.http.get(url, follow_redirects=False)
    done = await live.client.get(
        "/v1/oauth/tiktok/callback", params=callback_query(page.headers["location"])
    )
    assert done.status_code == 200
    assert done.headers["content-type"].startswith("text/html")
    (integration,) = (await live.client.get("/v1/integrations", headers=auth)).json()[
        "integrations"
    ]
    iid = integration["integration_id"]

    async with httpx.AsyncClient(timeout=30) as http:
        scheduler = AuthClient(http, live.url, SERVICE_TOKENS["scheduler"])
        publisher = AuthClient(http, live.url, SERVICE_TOKENS["publisher-tiktok"])
        introspected = await scheduler.introspect(key)
        assert introspected.active
        assert introspected.business_id == business_id
        info = await scheduler.get_integration(iid, business_id)
        assert info.status.value == "active"
        token = await publisher.get_token(iid, business_id)
        assert token.account["open_id"] == creator["open_id"]
        refreshed = await publisher.force_refresh(iid, business_id)
        assert refreshed.access_token != token.access_token
        with pytest.raises(IntegrationNotFound):
            await publisher.get_token(iid, "biz_someone_else")
        gone = await live.client.delete(f"/v1/integrations/{iid}", headers=auth)
        assert gone.status_code == 200
        with pytest.raises(NeedsReauth):
            await publisher.force_refresh(iid, business_id)
    metrics = (await live.client.get("/metrics")).text
    assert 'herald_auth_oauth_callbacks_total{outcome="connected",provider="tiktok"} 1.0' in metrics
    assert 'herald_auth_token_refresh_total{outcome="refreshed",provider="tiktok"} 1.0' in metrics
