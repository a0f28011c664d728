"""What the services' apps do alike, checked for each (each service's test_app.py held a copy,
issue 21): an app answers its operational routes before its dependencies do, settings come
from the environment under the service's own prefix, where a misspelled variable stops it, and
every refusal answers the same envelope (issue 19)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
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
from platform_sandbox.app import create_app as sandbox_app
from platform_sandbox.settings import Settings as SandboxSettings
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
from scheduler.testing import KEY_A, FakeIntegrations, FakeKeys

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


@dataclass(frozen=True)
class BadInput:
    """A request a service's own API must refuse, with the headers that get it past auth."""

    method: str
    path: str
    body: object
    headers: dict[str, str] = field(default_factory=dict)


def _sandbox(_: Mongo) -> FastAPI:
    return sandbox_app(SandboxSettings())


def _auth(mongo: Mongo) -> FastAPI:
    return auth_app(unreachable(AuthSettings, admin_token="admin-token"), mongo=mongo)


EVERY_APP: dict[str, tuple[Callable[[Mongo], FastAPI], BadInput | None]] = {
    "platform-sandbox": (_sandbox, BadInput("POST", "/_sandbox/faults", {"evil": "\ud800"})),
    "auth-service": (
        _auth,
        BadInput(
            "POST",
            "/v1/admin/businesses",
            {"name": 1, "evil": True},
            {"Authorization": "Bearer admin-token"},
        ),
    ),
    "scheduler": (
        UNREADY["scheduler"].build,
        BadInput(
            "POST",
            "/v1/posts",
            {"content": {"text": "hi", "evil": 1}, "targets": [], "draft": "yes"},
            {"Authorization": f"Bearer {KEY_A}"},
        ),
    ),
    **{name: (UNREADY[name].build, None) for name in UNREADY if name.startswith("publisher-")},
}


@pytest.mark.parametrize("service", EVERY_APP)
async def test_every_refusal_answers_one_envelope_and_the_document_says_so(
    service: str, unreachable_mongo: Mongo
) -> None:
    """`{"error", "message"}` from every service (issue 19, finding 10), the framework's own
    answers included: FastAPI's `{"detail": ...}` nowhere, in the answers or the document."""
    build, bad = EVERY_APP[service]
    app = build(unreachable_mongo)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        answers = [await client.get("/nowhere"), await client.post("/healthz")]
        if bad is not None:
            content = json.dumps(bad.body).encode()
            answers.append(
                await client.request(bad.method, bad.path, content=content, headers=bad.headers)
            )
    document = app.openapi()

    assert [a.status_code for a in answers[:2]] == [404, 405]
    assert answers[1].headers["allow"] == "GET"
    for answer in answers:
        assert 400 <= answer.status_code < 500
        assert {"error", "message"} <= set(answer.json()), answer.text
        assert "detail" not in answer.json()
    if bad is not None:
        assert answers[2].json()["error"] in {"invalid_request", "invalid_json", "bad_request"}
    assert "HTTPValidationError" not in document.get("components", {}).get("schemas", {})


def test_the_scheduler_names_every_unknown_or_loose_field_by_its_path() -> None:
    """`content.evil`, `targets[0].evil` and `draft: "yes"` were accepted on posts."""

    async def answer() -> dict[str, object]:
        app = scheduler_app(
            unreachable(SchedulerSettings), api_keys=FakeKeys(), integrations=FakeIntegrations()
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            body = {
                "content": {"text": "hi", "evil": 1},
                "targets": [{"integration_id": "fb-1", "platform": "facebook", "evil": 2}],
                "draft": "yes",
            }
            found = await client.post(
                "/v1/posts", json=body, headers={"Authorization": f"Bearer {KEY_A}"}
            )
        return {"status": found.status_code, **found.json()}

    found = asyncio.run(answer())
    assert found["status"] == 422
    violations = found["violations"]
    assert isinstance(violations, list)
    assert sorted(v["path"] for v in violations) == ["content.evil", "draft", "targets[0].evil"]
