"""What `GraphClient` sends (URL, bearer, appsecret_proof, form bodies) and what it reports
(request metrics by endpoint template, usage gauges)."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qs

import httpx
import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from herald.errors import Transient
from herald.graph import GraphClient, GraphMetrics, GraphSettings, form_fields, parse_usage
from herald.graph.usage import UsageReading, regain_after_s

pytestmark = pytest.mark.unit


class Recorder:
    def __init__(
        self, status: int = 200, body: object = None, headers: dict[str, str] | None = None
    ):
        self.requests: list[httpx.Request] = []
        self.status = status
        self.body = body if body is not None else {"id": "42"}
        self.headers = headers or {}

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json=self.body, headers=self.headers)


def make(
    recorder: Recorder, secret: str | None = None, registry: CollectorRegistry | None = None
) -> GraphClient:
    settings = GraphSettings(
        base_url="http://127.0.0.1:8120/graph.facebook.com",
        video_base_url="http://127.0.0.1:8120/graph-video.facebook.com",
        api_version="v23.0",
        app_secret=SecretStr(secret) if secret else None,
    )
    metrics = GraphMetrics.create(registry) if registry is not None else None
    http = httpx.AsyncClient(transport=httpx.MockTransport(recorder.handler))
    return GraphClient(http, settings, platform="facebook", metrics=metrics)


async def test_a_post_sends_form_fields_the_way_meta_sdks_do_with_a_bearer_token() -> None:
    recorder = Recorder()
    graph = make(recorder)

    answer = await graph.post(
        "page-token",
        "{page}/feed",
        ids={"page": "123"},
        data={
            "message": "Fresh bread",
            "published": False,
            "attached_media": [{"media_fbid": "9"}, {"media_fbid": "10"}],
            "thumb_offset": 1500,
            "skipped": None,
        },
    )

    assert answer == {"id": "42"}
    [request] = recorder.requests
    assert str(request.url) == "http://127.0.0.1:8120/graph.facebook.com/v23.0/123/feed"
    assert request.headers["authorization"] == "Bearer page-token"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form == {
        "message": "Fresh bread",
        "published": "false",
        "attached_media": '[{"media_fbid":"9"},{"media_fbid":"10"}]',
        "thumb_offset": "1500",
    }
    assert "page-token" not in str(request.url)


async def test_appsecret_proof_signs_the_token_with_the_app_secret() -> None:
    recorder = Recorder()
    graph = make(recorder, secret="s3cret")

    await graph.get("tok", "{media}", ids={"media": "77"}, params={"fields": "permalink"})
    await graph.post("tok", "{ig}/media_publish", ids={"ig": "5"}, data={"creation_id": "1"})

    expected = hmac.new(b"s3cret", b"tok", hashlib.sha256).hexdigest()
    get, post = recorder.requests
    assert get.url.params["appsecret_proof"] == expected
    assert get.url.params["fields"] == "permalink"
    assert parse_qs(post.content.decode())["appsecret_proof"] == [expected]
    assert graph.proof("tok") == expected


async def test_without_a_secret_no_proof_is_sent() -> None:
    recorder = Recorder()
    await make(recorder).get("tok", "me")
    assert "appsecret_proof" not in recorder.requests[0].url.params


async def test_video_calls_go_to_the_video_host_and_ids_are_escaped() -> None:
    recorder = Recorder()
    graph = make(recorder)

    await graph.post("tok", "{page}/videos", ids={"page": "1/2"}, data={}, host="video")

    url = str(recorder.requests[0].url)
    assert url == "http://127.0.0.1:8120/graph-video.facebook.com/v23.0/1%2F2/videos"


async def test_metrics_use_endpoint_templates_and_export_usage() -> None:
    registry = CollectorRegistry()
    buc = {"555": [{"type": "pages", "call_count": 12, "total_time": 40, "total_cputime": 3}]}
    headers = {"x-app-usage": '{"call_count": 7}', "x-business-use-case-usage": json.dumps(buc)}
    graph = make(Recorder(headers=headers), registry=registry)

    await graph.post("tok", "{page}/feed", ids={"page": "555"}, data={"message": "a"})
    await graph.post("tok", "{page}/feed", ids={"page": "556"}, data={"message": "b"})

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    labels = {"platform": "facebook", "endpoint": "/{page}/feed"}
    assert value("herald_platform_requests_total", **labels, outcome="ok") == 2
    assert value("herald_platform_request_seconds_count", **labels) == 2
    assert value("herald_platform_usage_ratio", platform="facebook", kind="pages") == 0.4
    assert value("herald_platform_usage_ratio", platform="facebook", kind="app") == 0.07


async def test_a_failed_call_is_counted_by_its_category() -> None:
    registry = CollectorRegistry()
    recorder = Recorder(status=500, body={"error": {"message": "x", "code": 2}})
    graph = make(recorder, registry=registry)

    with pytest.raises(Transient):
        await graph.get("tok", "{video}", ids={"video": "1"})
    with pytest.raises(Transient):
        await graph.post("tok", "{page}/feed", ids={"page": "1"}, data={})

    assert registry.get_sample_value(
        "herald_platform_requests_total",
        {"platform": "facebook", "endpoint": "/{video}", "outcome": "transient"},
    )
    assert registry.get_sample_value(
        "herald_platform_requests_total",
        {"platform": "facebook", "endpoint": "/{page}/feed", "outcome": "ambiguous"},
    )


def test_usage_headers_are_read_and_malformed_ones_ignored() -> None:
    buc = {
        "1": [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 3}],
        "2": [{"type": "pages", "call_count": 5}, "junk"],
    }
    readings = parse_usage(
        {
            "X-App-Usage": '{"call_count": 28, "total_time": 25}',
            "X-Business-Use-Case-Usage": json.dumps(buc),
        }
    )

    assert readings == [
        UsageReading("app", 0.28),
        UsageReading("instagram", 1.0, 180.0),
        UsageReading("pages", 0.05),
    ]
    assert regain_after_s(readings) == 180.0
    assert parse_usage({"x-app-usage": "{not json", "x-business-use-case-usage": "[1]"}) == []
    assert regain_after_s([UsageReading("app", 0.1)]) is None


def test_form_fields_encode_like_the_sdk() -> None:
    assert form_fields({"a": True, "b": 0, "c": 1.5, "d": ["x"], "e": {"k": 1}, "f": None}) == {
        "a": "true",
        "b": "0",
        "c": "1.5",
        "d": '["x"]',
        "e": '{"k":1}',
    }
