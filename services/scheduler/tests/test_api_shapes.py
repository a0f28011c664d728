"""The API's transport pieces without infrastructure: field paths of schema errors, the
cursor, authentication answers, and an OpenAPI document that covers every route."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from herald.httperrors import violations_of
from herald.settings import KafkaSettings, MongoSettings
from scheduler.api.views import decode_cursor, encode_cursor
from scheduler.app import create_app
from scheduler.errors import Rejected
from scheduler.settings import Settings
from scheduler.testing import FakeIntegrations, FakeKeys

pytestmark = pytest.mark.unit


def offline_app() -> FastAPI:
    settings = Settings(
        kafka=KafkaSettings(bootstrap_servers="127.0.0.1:9"),
        mongo=MongoSettings(uri="mongodb://127.0.0.1:9/", server_selection_timeout_ms=200),
    )
    return create_app(settings, api_keys=FakeKeys(), integrations=FakeIntegrations())


@pytest.mark.parametrize(
    ("loc", "path"),
    [
        (("body", "targets", 0, "integration_id"), "targets[0].integration_id"),
        (
            ("body", "targets", 2, "options", "tiktok", "privacy_level"),
            "targets[2].options.privacy_level",
        ),
        (("body", "content", "media", 1, "url"), "content.media[1].url"),
        (("body", "targets", 0, "function-after[_options_match_platform()]"), "targets[0]"),
        (("query", "limit"), "query.limit"),
        (("body",), "(body)"),
    ],
)
def test_schema_errors_become_field_paths(loc: tuple[int | str, ...], path: str) -> None:
    error = RequestValidationError([{"loc": loc, "msg": "bad", "type": "value_error"}])
    assert [v.path for v in violations_of(error)] == [path]


def test_cursors_round_trip_and_reject_forgeries() -> None:
    after = (datetime(2031, 1, 2, 3, 4, 5, 600_000, tzinfo=UTC), "p_abc")
    assert decode_cursor(encode_cursor(after)) == after
    assert decode_cursor(None) is None
    for forged in ("zzz", "W10", str(encode_cursor(after))[:-3] + "!!!"):
        with pytest.raises(Rejected) as caught:
            decode_cursor(forged)
        assert caught.value.violations[0].path == "cursor"


def test_the_openapi_document_covers_every_route() -> None:
    document = offline_app().openapi()
    operations = {(m.upper(), p) for p, item in document["paths"].items() for m in item}
    assert operations == {
        ("POST", "/v1/posts"),
        ("GET", "/v1/posts"),
        ("GET", "/v1/posts/{post_id}"),
        ("DELETE", "/v1/posts/{post_id}"),
        ("GET", "/v1/posts/{post_id}/history"),
        ("POST", "/v1/posts/{post_id}/cancel"),
        ("POST", "/v1/posts/{post_id}/retry"),
        ("POST", "/v1/posts/{post_id}/schedule"),
        ("POST", "/v1/posts/{post_id}/reschedule"),
        ("POST", "/v1/campaigns"),
        ("GET", "/v1/campaigns"),
        ("GET", "/v1/campaigns/{campaign_id}"),
        ("POST", "/v1/campaigns/{campaign_id}/end"),
        ("GET", "/v1/posts/{post_id}/recipients"),
        ("GET", "/v1/posts/{post_id}/analytics"),
        ("GET", "/v1/analytics/summary"),
        ("GET", "/v1/analytics/accounts/{integration_id}"),
        ("POST", "/v1/posts/{post_id}/analytics/refresh"),
        ("POST", "/v1/audiences"),
        ("GET", "/v1/audiences"),
        ("GET", "/v1/audiences/{audience_id}"),
        ("DELETE", "/v1/audiences/{audience_id}"),
        ("POST", "/v1/audiences/{audience_id}/contacts"),
        ("GET", "/v1/audiences/{audience_id}/contacts"),
        ("DELETE", "/v1/audiences/{audience_id}/contacts/{contact_id}"),
        ("POST", "/v1/audiences/{audience_id}/imports"),
        ("POST", "/v1/opt-outs"),
        ("GET", "/v1/rejections"),
        ("POST", "/v1/webhooks/endpoints"),
        ("GET", "/v1/webhooks/endpoints"),
        ("GET", "/v1/webhooks/endpoints/{endpoint_id}"),
        ("PATCH", "/v1/webhooks/endpoints/{endpoint_id}"),
        ("DELETE", "/v1/webhooks/endpoints/{endpoint_id}"),
        ("POST", "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret"),
        ("POST", "/v1/webhooks/endpoints/{endpoint_id}/ping"),
        ("GET", "/v1/webhooks/endpoints/{endpoint_id}/deliveries"),
        ("POST", "/v1/webhooks/deliveries/{delivery_id}/redeliver"),
        ("GET", "/healthz"),  # operational, unauthenticated: probes and scrapers
        ("GET", "/readyz"),
        ("GET", "/metrics"),
    }
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if operation["tags"] == ["operations"]:
                assert "security" not in operation, path
                continue
            documented = set(operation["responses"])
            assert {"401", "403"} <= documented, (method, path)
            assert operation["security"] == [{"ApiKey": []}], (method, path)
