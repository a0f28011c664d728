"""Webhook signing secrets are sealed at rest (ADR 0021): the raw documents hold no secret, and
after a restart under a rotated keyring (and for an endpoint stored in the clear before sealing)
every secret is sealed under the new key and deliveries still verify. A keyring unfit outside
local runs refuses the start, naming the setting."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI

from herald.settings import ConfigurationError
from herald.testkit import running
from herald.testkit.servers import serving_in_thread
from scheduler.app import create_app
from scheduler.testing import SchedulerEnv, auth, client, eventually
from scheduler.webhooks.models import new_secret
from scheduler.webhooks.settings import WebhookSettings
from scheduler.webhooks.testing import Receiver
from scheduler.webhooks.wiring import DEV_VAULT_KEY, keyring

K1, K2 = (base64.b64encode(os.urandom(32)).decode() for _ in range(2))
VAULT = "HERALD_SCHEDULER_WEBHOOKS__VAULT"


def _app(env: SchedulerEnv, keys: dict[str, str], primary: str) -> FastAPI:
    hooks = WebhookSettings.model_validate(
        {
            "allow_loopback": True,
            "allowed_schemes": ["http", "https"],
            "poll_s": 0.1,
            "vault": {"keys": keys, "primary_kid": primary},
        }
    )
    settings = env.settings().model_copy(update={"webhooks": hooks})
    return create_app(settings, api_keys=env.keys, integrations=env.integrations)


def _legacy(url: str, secret: str) -> dict[str, Any]:
    """An endpoint as stored before sealing: its secret in the clear."""
    now = datetime.now(UTC)
    return {
        "_id": "we_legacy",
        "business_id": "biz-a",
        "url": url,
        "event_types": [],
        "description": None,
        "enabled": True,
        "secrets": [{"value": secret, "created_at": now, "expires_at": None}],
        "created_at": now,
        "updated_at": now,
        "failing_since": None,
        "disabled_at": None,
        "disabled_reason": None,
    }


@pytest.mark.connected
async def test_secrets_are_sealed_at_rest_and_still_sign_after_a_restart_and_a_new_key(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    raw = env.db["webhook_endpoints"]
    receiver = Receiver()
    old_secret = new_secret()
    with serving_in_thread(receiver.app()) as base:
        first = _app(env, {"k1": K1}, "k1")
        async with running(first):
            http = client(first)
            created = await http.post(
                "/v1/webhooks/endpoints", json={"url": f"{base}/hook"}, headers=auth()
            )
            assert created.status_code == 201, created.text
            endpoint_id = created.json()["id"]
            path = f"/v1/webhooks/endpoints/{endpoint_id}/rotate-secret"
            rotated = await http.post(path, json={"overlap_s": 3600}, headers=auth())
            assert rotated.status_code == 200, rotated.text
        await raw.insert_one(_legacy(f"{base}/hook", old_secret))
        stored = await raw.find_one({"_id": endpoint_id})
        secrets = (created.json()["secret"], rotated.json()["secret"])

        # A restart with a new primary key; k1 still opens what it sealed.
        second = _app(env, {"k1": K1, "k2": K2}, "k2")
        async with running(second):
            kids = await eventually(lambda: _kids(env))
            http = client(second)
            receiver.secret = secrets[1]
            ping = await http.post(f"/v1/webhooks/endpoints/{endpoint_id}/ping", headers=auth())
            await eventually(lambda: _async(receiver.of_type("ping")))
            receiver.secret = old_secret
            legacy = await http.post("/v1/webhooks/endpoints/we_legacy/ping", headers=auth())
            await eventually(lambda: _async(len(receiver.of_type("ping")) == 2))
        resealed = [d async for d in raw.find({})]

    assert stored is not None
    assert stored["secrets_kid"] == "k1"
    assert [s["sealed"]["kid"] for s in stored["secrets"]] == ["k1", "k1"]
    assert kids == {endpoint_id: "k2", "we_legacy": "k2"}
    assert (ping.status_code, legacy.status_code) == (202, 202)
    assert all(r.verified and r.forgeries_refused for r in receiver.received)
    # No secret, nor its key material without the prefix, anywhere in the raw documents.
    text = json.dumps([stored, *resealed], default=str)
    for secret in (*secrets, old_secret):
        assert secret not in text
        assert secret.removeprefix("whsec_") not in text
    assert all("value" not in s for d in resealed for s in d["secrets"])


async def _kids(env: SchedulerEnv) -> dict[str, str] | None:
    docs = [d async for d in env.db["webhook_endpoints"].find({})]
    kids = {str(d["_id"]): str(d.get("secrets_kid")) for d in docs}
    return kids if set(kids.values()) == {"k2"} else None


async def _async(value: Any) -> Any:
    return value


def _settings(keys: dict[str, str], primary: str | None = None) -> WebhookSettings:
    return WebhookSettings.model_validate({"vault": {"keys": keys, "primary_kid": primary}})


@pytest.mark.unit
def test_outside_loopback_a_missing_or_public_key_refuses_the_start() -> None:
    for settings in (_settings({}), _settings({"dev": DEV_VAULT_KEY})):
        with pytest.raises(ConfigurationError, match=rf"{VAULT}__KEYS.*0\.0\.0\.0"):
            keyring(settings, http_host="0.0.0.0")  # noqa: S104 - what a deployment listens on
        assert keyring(settings, http_host="127.0.0.1").primary_kid == "dev"
    assert keyring(_settings({"k1": K1}), http_host="0.0.0.0").primary_kid == "k1"  # noqa: S104


@pytest.mark.unit
def test_a_malformed_keyring_refuses_the_start_even_locally() -> None:
    cases = {
        f"{VAULT}__KEYS\\[k1\\]: is not base64": _settings({"k1": "c2hvcnQ="}),
        f"{VAULT}__PRIMARY_KID: 'k9'": _settings({"k1": K1}, "k9"),
        f"{VAULT}__PRIMARY_KID: is missing": _settings({"k1": K1, "k2": K2}),
    }
    for reason, settings in cases.items():
        with pytest.raises(ConfigurationError, match=reason):
            keyring(settings, http_host="127.0.0.1")
