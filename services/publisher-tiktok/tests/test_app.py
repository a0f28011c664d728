"""publisher-tiktok takes every setting from the environment and refuses unsigned webhooks (the
checks every service's app shares are in tests/contract/test_service_apps.py)."""

from __future__ import annotations

import httpx
import pytest

from herald.retention import Rule
from herald.settings import load_settings
from herald.testkit.apps import unreachable
from publisher_tiktok.adapters.store import WEBHOOKS
from publisher_tiktok.app import create_app
from publisher_tiktok.settings import Settings

pytestmark = pytest.mark.unit


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "HERALD_PUBLISHER_TIKTOK_TIKTOK__BASE_URL": "http://127.0.0.1:8120/open.tiktokapis.com",
        "HERALD_PUBLISHER_TIKTOK_TIKTOK__CLIENT_SECRET": "s3cret",
        "HERALD_PUBLISHER_TIKTOK_TIKTOK__VERIFIED_URL_PREFIXES": '["https://media.example.com/"]',
        "HERALD_PUBLISHER_TIKTOK_TIKTOK__CHUNKS__CHUNK_SIZE_BYTES": "20000000",
        "HERALD_PUBLISHER_TIKTOK_TIKTOK__LIMITS__INIT_PER_MINUTE": "5",
        "HERALD_PUBLISHER_TIKTOK_FETCHER__ALLOWED_ORIGINS": '["http://127.0.0.1:8120"]',
        "HERALD_PUBLISHER_TIKTOK_FETCHER__MAX_BYTES": "1000000",
        "HERALD_PUBLISHER_TIKTOK_AUTH__BASE_URL": "http://127.0.0.1:8101",
        "HERALD_PUBLISHER_TIKTOK_INSIGHTS__AGES_S": "[60, 3600]",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(Settings, env)
    assert settings.http.port == 8114
    assert settings.database == "herald_publisher_tiktok"
    assert settings.tiktok.base_url.endswith("/open.tiktokapis.com")
    assert settings.tiktok.client_secret.get_secret_value() == "s3cret"
    assert settings.tiktok.verified_url_prefixes == ["https://media.example.com/"]
    assert settings.tiktok.chunks.chunk_size_bytes == 20_000_000
    assert settings.tiktok.limits.init_per_minute == 5
    assert settings.fetcher.allowed_origins == ["http://127.0.0.1:8120"]
    assert settings.fetcher.max_bytes == 1_000_000
    assert settings.insights.ages_s == [60, 3600]


def test_webhook_outcomes_and_delivery_marks_are_swept_after_the_retention() -> None:
    """Each TikTok delivery leaves a document (an outcome per publish id and event, a mark per
    `authorization.removed`); they were never deleted (issue 19, finding 7)."""
    settings = unreachable(Settings)
    retention = create_app(settings).state.runtime.retention
    assert Rule(WEBHOOKS, "at") in retention.rules
    # A mark outlives the window in which its replay would still be fresh.
    assert retention.keep_s > settings.tiktok.webhook_tolerance_s


async def test_the_webhook_route_refuses_unsigned_deliveries() -> None:
    transport = httpx.ASGITransport(app=create_app(unreachable(Settings)))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        response = await client.post("/webhooks/tiktok", content=b"{}")
    assert response.status_code == 401
