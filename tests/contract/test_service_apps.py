"""What the services' apps do alike, checked for each (each service's test_app.py held a copy,
issue 21): an app answers its operational routes before its dependencies do, and settings come
from the environment under the service's own prefix, where a misspelled variable stops it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from fastapi import FastAPI
from pydantic_settings import BaseSettings
from pymongo import AsyncMongoClient

from auth_service.app import create_app as auth_app
from auth_service.settings import Settings as AuthSettings
from herald.mongo import Document
from herald.publishers import GraphPublisherSettings
from herald.settings import ConfigurationError, load_settings
from herald.testkit.apps import probe, unreachable
from publisher_facebook.app import create_app as facebook_app
from publisher_facebook.settings import Settings as FacebookSettings
from publisher_instagram.app import create_app as instagram_app
from publisher_instagram.settings import Settings as InstagramSettings
from publisher_tiktok.app import create_app as tiktok_app
from publisher_tiktok.settings import Settings as TikTokSettings
from publisher_whatsapp.app import create_app as whatsapp_app
from publisher_whatsapp.settings import Settings as WhatsAppSettings
from scheduler.app import create_app as scheduler_app
from scheduler.settings import Settings as SchedulerSettings
from scheduler.testing import FakeIntegrations, FakeKeys

pytestmark = pytest.mark.unit

Mongo = AsyncMongoClient[Document]


@dataclass(frozen=True)
class Unready:
    """A service's app on Kafka and MongoDB out of reach; `checks`: its readiness checks beyond
    those two, with what each must say; `metrics`: names its `/metrics` must show already."""

    build: Callable[[Mongo], FastAPI]
    checks: dict[str, str] = field(default_factory=dict)
    metrics: tuple[str, ...] = ()


UNREADY = {
    "auth-service": Unready(lambda mongo: auth_app(unreachable(AuthSettings), mongo=mongo)),
    "scheduler": Unready(
        lambda mongo: scheduler_app(
            unreachable(SchedulerSettings),
            api_keys=FakeKeys(),
            integrations=FakeIntegrations(),
            mongo=mongo,
        ),
        checks={"dispatcher": "RuntimeError: the dispatcher is not running"},
    ),
    "publisher-facebook": Unready(
        lambda mongo: facebook_app(unreachable(FacebookSettings), mongo=mongo)
    ),
    "publisher-instagram": Unready(
        lambda mongo: instagram_app(unreachable(InstagramSettings), mongo=mongo)
    ),
    "publisher-whatsapp": Unready(
        lambda mongo: whatsapp_app(unreachable(WhatsAppSettings), mongo=mongo),
        metrics=("herald_whatsapp_messages_total", "herald_webhook_rejected_total"),
    ),
    "publisher-tiktok": Unready(lambda mongo: tiktok_app(unreachable(TikTokSettings), mongo=mongo)),
}


@pytest.mark.parametrize("service", UNREADY)
async def test_alive_but_not_ready_without_kafka_and_mongo(
    service: str, unreachable_mongo: Mongo
) -> None:
    case = UNREADY[service]

    found = await probe(case.build(unreachable_mongo))

    assert found.health == 200
    assert found.ready == 503
    assert set(found.checks) == {"kafka", "mongo", *case.checks}
    assert found.checks["kafka"] != "ok"
    assert found.checks["mongo"] != "ok"
    assert {name: found.checks[name] for name in case.checks} == case.checks
    assert found.metrics == 200
    assert [name for name in case.metrics if name not in found.metrics_text] == []


GRAPH_PUBLISHERS: dict[str, type[GraphPublisherSettings]] = {
    "publisher-facebook": FacebookSettings,
    "publisher-instagram": InstagramSettings,
}


@pytest.mark.parametrize("service", GRAPH_PUBLISHERS)
def test_every_piece_of_a_graph_publisher_is_configured_from_the_environment(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = f"HERALD_{service.upper().replace('-', '_')}_"
    environ = {
        "GRAPH__BASE_URL": "http://127.0.0.1:8120/graph.facebook.com",
        "GRAPH__API_VERSION": "v24.0",
        "GRAPH__APP_SECRET": "s3cret",
        "AUTH__BASE_URL": "http://127.0.0.1:8101",
        "AUTH__SERVICE_TOKEN": "svc",
        "INSIGHTS__AGES_S": "[86400, 3600]",
        "TOPIC_PREFIX": "demo.",
    }
    for name, value in environ.items():
        monkeypatch.setenv(prefix + name, value)

    settings = load_settings(GRAPH_PUBLISHERS[service])

    assert settings.graph.base_url == "http://127.0.0.1:8120/graph.facebook.com"
    assert settings.graph.api_version == "v24.0"
    assert settings.graph.app_secret is not None
    assert settings.graph.app_secret.get_secret_value() == "s3cret"
    assert settings.auth.base_url == "http://127.0.0.1:8101"
    assert settings.insights.ages_s == [3600, 86400]
    assert settings.topic_prefix == "demo."
    assert settings.database == f"herald_{service.replace('-', '_')}"


MISSPELLED: dict[str, tuple[type[BaseSettings], str, str]] = {
    "publisher-facebook": (FacebookSettings, "HERALD_PUBLISHER_FACEBOOK_GRAPHH__BASE_URL", "x"),
    "publisher-instagram": (InstagramSettings, "HERALD_PUBLISHER_INSTAGRAM_GRAPHH__BASE_URL", "x"),
    "publisher-whatsapp": (
        WhatsAppSettings,
        "HERALD_PUBLISHER_WHATSAPP_PACEE__THROUGHPUT_MPS",
        "80",
    ),
}


@pytest.mark.parametrize("service", MISSPELLED)
def test_a_misspelled_variable_stops_the_service(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, variable, value = MISSPELLED[service]
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigurationError):
        load_settings(settings)
