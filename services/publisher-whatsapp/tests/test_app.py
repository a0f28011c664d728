"""publisher-whatsapp serves its webhook handshake without its dependencies, takes every setting
from the environment and refuses a throughput beyond the platform's (the checks every service's
app shares are in tests/contract/test_service_apps.py)."""

from __future__ import annotations

import httpx
import pytest

from herald.retention import Rule
from herald.settings import ConfigurationError, load_settings
from herald.testkit.apps import unreachable
from publisher_whatsapp.adapters.store import EMITTED, STATUSES
from publisher_whatsapp.app import create_app
from publisher_whatsapp.settings import Settings

pytestmark = pytest.mark.unit


async def test_the_webhook_handshake_answers_without_dependencies() -> None:
    app = create_app(unreachable(Settings, webhook={"verify_token": "tok-1", "path": "/hooks/wa"}))
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok-1", "hub.challenge": "42"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        answer = await client.get("/hooks/wa", params=params)
        unsigned = await client.post("/hooks/wa", content=b"{}")

    assert (answer.status_code, answer.text) == (200, "42")
    assert unsigned.status_code == 401


def test_status_claims_and_emissions_are_swept_after_the_retention() -> None:
    """A status webhook is acted on once by a claim per (message id, status): the claims, and
    the record of what was emitted, are swept with the message log, not kept for ever."""
    retention = create_app(unreachable(Settings)).state.runtime.retention
    assert Rule(STATUSES, "claimed_at") in retention.rules
    assert Rule(EMITTED, "at") in retention.rules


def test_every_piece_is_configured_from_the_environment() -> None:
    environ = {
        "HERALD_PUBLISHER_WHATSAPP_GRAPH__BASE_URL": "http://127.0.0.1:8120/graph.facebook.com",
        "HERALD_PUBLISHER_WHATSAPP_GRAPH__APP_SECRET": "s3cret",
        "HERALD_PUBLISHER_WHATSAPP_AUTH__BASE_URL": "http://127.0.0.1:8101",
        "HERALD_PUBLISHER_WHATSAPP_PACE__THROUGHPUT_MPS": "1000",
        "HERALD_PUBLISHER_WHATSAPP_PACE__NUMBERS": '{"106540352242922": 20}',
        "HERALD_PUBLISHER_WHATSAPP_SEND__MAX_RECIPIENTS": "250",
        "HERALD_PUBLISHER_WHATSAPP_SEND__MAX_IN_FLIGHT": "1",
        "HERALD_PUBLISHER_WHATSAPP_MEDIA__PRIVATE_ORIGINS": '["https://media.internal"]',
        "HERALD_PUBLISHER_WHATSAPP_WEBHOOK__VERIFY_TOKEN": "verify",
        "HERALD_PUBLISHER_WHATSAPP_WEBHOOK__PREVIOUS_APP_SECRET": "old",
        "HERALD_PUBLISHER_WHATSAPP_FETCHER__ALLOWED_ORIGINS": '["http://127.0.0.1:8120"]',
        "HERALD_PUBLISHER_WHATSAPP_TOPIC_PREFIX": "demo.",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environ.items():
            patch.setenv(name, value)
        settings = load_settings(Settings)

    assert settings.http.port == 8113
    assert settings.database == "herald_publisher_whatsapp"
    assert settings.pace.limit("106540352242922") == 20.0
    assert settings.pace.limit("other") == 1000.0
    assert (settings.send.max_recipients, settings.send.max_in_flight) == (250, 1)
    assert settings.media.private_origins == ["https://media.internal"]
    assert settings.webhook.verify_token.get_secret_value() == "verify"
    assert settings.webhook_secrets() == ["s3cret", "old"]
    assert settings.fetcher.allowed_origins == ["http://127.0.0.1:8120"]
    assert settings.topic_prefix == "demo."


def test_a_throughput_beyond_the_platforms_is_refused() -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HERALD_PUBLISHER_WHATSAPP_PACE__THROUGHPUT_MPS", "5000")
        with pytest.raises(ConfigurationError):
            load_settings(Settings)
