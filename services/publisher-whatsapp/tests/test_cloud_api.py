"""The Graph adapter against `httpx.MockTransport`: what goes on the wire (JSON, bearer token,
appsecret_proof in the query, multipart upload) and how answers are read and classified."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from herald.errors import NeedsReauth, Permanent, PlatformError, Throttled
from herald.graph import AmbiguousOutcome, GraphClient, GraphMetrics, GraphSettings
from publisher_whatsapp.adapters.cloud_api import GraphCloudApi

pytestmark = pytest.mark.unit

PHONE = "106540352242922"
BODY = {
    "messaging_product": "whatsapp",
    "recipient_type": "individual",
    "to": "1",
    "type": "text",
    "text": {"body": "hi"},
}


def api(
    status: int, answer: Any, seen: list[httpx.Request], registry: CollectorRegistry | None = None
) -> GraphCloudApi:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=answer)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    settings = GraphSettings(base_url="https://graph.test", app_secret=SecretStr("s3cret"))
    metrics = GraphMetrics.create(registry) if registry is not None else None
    return GraphCloudApi(GraphClient(http, settings, platform="whatsapp", metrics=metrics))


def envelope(code: int) -> dict[str, Any]:
    return {
        "error": {
            "message": f"(#{code}) refused",
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "T",
        }
    }


async def test_a_message_goes_as_json_with_the_token_in_the_header_and_the_proof_in_the_query() -> (
    None
):
    seen: list[httpx.Request] = []
    registry = CollectorRegistry()
    answer = {"messaging_product": "whatsapp", "messages": [{"id": "wamid.A"}]}

    message_id = await api(200, answer, seen, registry).send("tok", PHONE, BODY)

    [request] = seen
    assert message_id == "wamid.A"
    assert request.url.path == f"/v23.0/{PHONE}/messages"
    assert request.headers["authorization"] == "Bearer tok"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == BODY
    proof = hmac.new(b"s3cret", b"tok", hashlib.sha256).hexdigest()
    assert request.url.params["appsecret_proof"] == proof
    assert "tok" not in str(request.url)
    sample = registry.get_sample_value(
        "herald_platform_requests_total",
        {"platform": "whatsapp", "endpoint": "/{phone}/messages", "outcome": "ok"},
    )
    assert sample == 1.0


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, 131056, Throttled),
        (429, 130429, Throttled),
        (400, 131026, Permanent),
        (400, 131047, Permanent),
        (404, 132001, Permanent),
        (401, 190, NeedsReauth),
        (401, 0, NeedsReauth),
        (500, 131000, AmbiguousOutcome),
    ],
)
async def test_refusals_are_classified_by_code(
    status: int, code: int, expected: type[PlatformError]
) -> None:
    with pytest.raises(PlatformError) as raised:
        await api(status, envelope(code), []).send("tok", PHONE, BODY)

    assert type(raised.value) is expected
    assert raised.value.code == str(code)
    assert raised.value.remediation


async def test_an_answer_without_a_message_id_is_ambiguous() -> None:
    with pytest.raises(AmbiguousOutcome):
        await api(200, {"messaging_product": "whatsapp", "messages": []}, []).send(
            "tok", PHONE, BODY
        )


async def test_an_upload_is_multipart_with_the_file_its_type_and_the_product() -> None:
    seen: list[httpx.Request] = []

    media_id = await api(200, {"id": "M1"}, seen).upload(
        "tok", PHONE, data=b"\xff\xd8\xffJPEG", mime_type="image/jpeg", filename="a.jpg"
    )

    [request] = seen
    assert media_id == "M1"
    assert request.url.path == f"/v23.0/{PHONE}/media"
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    content = request.content
    assert b'name="messaging_product"\r\n\r\nwhatsapp' in content
    assert b'name="type"\r\n\r\nimage/jpeg' in content
    assert (
        b'name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8\xffJPEG'
        in content
    )
    assert b'name="appsecret_proof"' in content
