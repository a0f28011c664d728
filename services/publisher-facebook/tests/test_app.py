"""The service answers its operational routes even before its dependencies do."""

from __future__ import annotations

import httpx
import pytest
from pymongo import AsyncMongoClient

from herald.mongo import Document
from herald.settings import ConfigurationError, KafkaSettings, MongoSettings, load_settings
from publisher_facebook.app import create_app
from publisher_facebook.settings import Settings

pytestmark = pytest.mark.unit


def _settings() -> Settings:
    # Nothing listens on port 9 (discard), so both dependencies are unreachable.
    return Settings(
        kafka=KafkaSettings(bootstrap_servers="127.0.0.1:9"),
        mongo=MongoSettings(uri="mongodb://127.0.0.1:9/", server_selection_timeout_ms=200),
    )


async def test_alive_but_not_ready_without_kafka_and_mongo(
    unreachable_mongo: AsyncMongoClient[Document],
) -> None:
    app = create_app(_settings(), mongo=unreachable_mongo)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")

    assert health.status_code == 200
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert set(checks) == {"kafka", "mongo"}
    assert checks["kafka"] != "ok"
    assert checks["mongo"] != "ok"
    assert metrics.status_code == 200


def test_every_piece_is_configured_from_the_environment() -> None:
    environ = {
        "HERALD_PUBLISHER_FACEBOOK_GRAPH__BASE_URL": "http://127.0.0.1:8120/graph.facebook.com",
        "HERALD_PUBLISHER_FACEBOOK_GRAPH__API_VERSION": "v24.0",
        "HERALD_PUBLISHER_FACEBOOK_GRAPH__APP_SECRET": "s3cret",
        "HERALD_PUBLISHER_FACEBOOK_AUTH__BASE_URL": "http://127.0.0.1:8101",
        "HERALD_PUBLISHER_FACEBOOK_AUTH__SERVICE_TOKEN": "svc",
        "HERALD_PUBLISHER_FACEBOOK_INSIGHTS__AGES_S": "[86400, 3600]",
        "HERALD_PUBLISHER_FACEBOOK_TOPIC_PREFIX": "demo.",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environ.items():
            patch.setenv(name, value)
        settings = load_settings(Settings)

    assert settings.graph.base_url == "http://127.0.0.1:8120/graph.facebook.com"
    assert settings.graph.api_version == "v24.0"
    assert settings.graph.app_secret is not None
    assert settings.graph.app_secret.get_secret_value() == "s3cret"
    assert settings.auth.base_url == "http://127.0.0.1:8101"
    assert settings.insights.ages_s == [3600, 86400]
    assert settings.topic_prefix == "demo."
    assert settings.database == "herald_publisher_facebook"


def test_a_misspelled_variable_stops_the_service() -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HERALD_PUBLISHER_FACEBOOK_GRAPHH__BASE_URL", "x")
        with pytest.raises(ConfigurationError):
            load_settings(Settings)


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        # The insights job reads the ledger until 7 days + 2 days of grace after publishing.
        ({"HERALD_PUBLISHER_FACEBOOK_RETENTION__KEEP_DAYS": "5"}, "insights.grace_s"),
        # A request may be deferred 48 h; its ledger entry must still be there when it returns.
        (
            {
                "HERALD_PUBLISHER_FACEBOOK_RETENTION__KEEP_DAYS": "1",
                "HERALD_PUBLISHER_FACEBOOK_INSIGHTS__ENABLED": "false",
            },
            "retry.max_deferral_s",
        ),
    ],
)
def test_a_retention_that_would_delete_what_is_still_read_stops_the_service(
    environ: dict[str, str], names: str
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environ.items():
            patch.setenv(name, value)
        with pytest.raises(ConfigurationError) as caught:
            load_settings(Settings)
    assert "retention.keep_days" in str(caught.value)
    assert names in str(caught.value)
