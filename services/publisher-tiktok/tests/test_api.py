"""The TikTok client's classification, driven by a table of answers (httpx.MockTransport)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from herald.errors import NeedsReauth, Permanent, PlatformError, Throttled, Transient, Unknown
from herald.metrics import PlatformCalls
from publisher_tiktok.adapters.api import HttpTikTokApi
from publisher_tiktok.ports import RangeRejected, UploadGone
from publisher_tiktok.settings import TikTokSettings

pytestmark = pytest.mark.unit


def api_answering(status: int, body: Any, headers: dict[str, str] | None = None) -> HttpTikTokApi:
    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(body, Exception):
            raise body
        return httpx.Response(status, json=body, headers=headers)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    return HttpTikTokApi(client, TikTokSettings())


def envelope(code: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"data": data or {}, "error": {"code": code, "message": code, "log_id": "L1"}}


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (401, "access_token_invalid", NeedsReauth),
        (401, "scope_not_authorized", NeedsReauth),
        (429, "rate_limit_exceeded", Throttled),
        (200, "spam_risk_too_many_posts", Throttled),  # creator_info answers 200 on purpose
        (403, "spam_risk_too_many_posts", Throttled),
        (403, "reached_active_user_cap", Throttled),
        (403, "spam_risk_too_many_pending_share", Throttled),
        (200, "spam_risk_user_banned_from_posting", Permanent),
        (403, "privacy_level_option_mismatch", Permanent),
        (403, "url_ownership_unverified", Permanent),
        (403, "unaudited_client_can_only_post_to_private_accounts", Permanent),
        (400, "invalid_param", Permanent),
        (500, "internal_error", Transient),
        (503, "whatever", Transient),
    ],
)
async def test_error_codes_are_classified(
    status: int, code: str, kind: type[PlatformError]
) -> None:
    with pytest.raises(kind) as caught:
        await api_answering(status, envelope(code)).creator_info("tok")
    assert caught.value.code == code


async def test_daily_cap_and_rate_limit_carry_when_to_come_back() -> None:
    with pytest.raises(Throttled) as capped:
        await api_answering(403, envelope("spam_risk_too_many_posts")).creator_info("tok")
    assert capped.value.retry_after_s == 24 * 3600
    limited = api_answering(429, envelope("rate_limit_exceeded"), {"Retry-After": "12"})
    with pytest.raises(Throttled) as caught:
        await limited.creator_info("tok")
    assert caught.value.retry_after_s == 12


async def test_an_answer_without_json_is_classified_by_status() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>bad gateway</html>")

    api = HttpTikTokApi(httpx.AsyncClient(transport=httpx.MockTransport(answer)), TikTokSettings())
    with pytest.raises(Transient):
        await api.status("tok", "p1")


async def test_a_lost_answer_to_a_pull_init_is_unknown_not_retried() -> None:
    api = api_answering(200, httpx.ReadTimeout("lost"))
    source = {"source": "PULL_FROM_URL", "video_url": "https://cdn.example.com/v.mp4"}
    with pytest.raises(Unknown) as caught:
        await api.init_video("tok", inbox=False, post_info={}, source_info=source)
    assert caught.value.code == "ambiguous_init"
    with pytest.raises(Transient):  # a FILE_UPLOAD init lost the same way leaves nothing public
        await api.init_video(
            "tok", inbox=False, post_info={}, source_info={"source": "FILE_UPLOAD"}
        )
    with pytest.raises(Transient):  # never sent at all
        await api_answering(200, httpx.ConnectError("down")).init_photo(
            "tok", inbox=False, post_info={}, source_info={}
        )


async def test_status_reads_tiktoks_spelling_of_the_post_id() -> None:
    data = {"status": "PUBLISH_COMPLETE", "publicaly_available_post_id": [7_123_456_789]}
    status = await api_answering(200, envelope("ok", data)).status("tok", "p1")
    assert (status.status, status.post_ids) == ("PUBLISH_COMPLETE", ["7123456789"])


async def body() -> AsyncIterator[bytes]:
    yield b"x" * 10


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (206, 10),
        (201, 10),
        (403, UploadGone),
        (404, UploadGone),
        (416, RangeRejected),
        (500, Transient),
        (400, Permanent),
    ],
)
async def test_chunk_answers(status: int, outcome: int | type[Exception]) -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, headers={"Content-Range": "bytes 0-9/20"})

    api = HttpTikTokApi(httpx.AsyncClient(transport=httpx.MockTransport(answer)), TikTokSettings())
    put = api.put_chunk(
        "https://up.example/video/?upload_id=1",
        body(),
        first=0,
        last=9,
        total=20,
        content_type="video/mp4",
    )
    if isinstance(outcome, int):
        assert await put == outcome
    else:
        with pytest.raises(outcome):
            await put
    assert seen[0].headers["Content-Range"] == "bytes 0-9/20"
    assert seen[0].headers["Content-Length"] == "10"
    assert "Transfer-Encoding" not in seen[0].headers


async def test_calls_are_counted_by_endpoint_template_and_outcome() -> None:
    """The TikTok dashboard's platform-call panels read these, as the Graph publishers' do."""
    registry = CollectorRegistry()
    answers = iter([(200, envelope("ok", {"videos": []})), (401, envelope("access_token_invalid"))])

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(416)
        status, payload = next(answers)
        return httpx.Response(status, json=payload)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    api = HttpTikTokApi(client, TikTokSettings(), PlatformCalls.create(registry))
    await api.video_query("tok", ["v1"])
    with pytest.raises(NeedsReauth):
        await api.creator_info("tok")
    with pytest.raises(RangeRejected):
        await api.put_chunk(
            "https://up.example/v?upload_id=1",
            body(),
            first=0,
            last=9,
            total=20,
            content_type="video/mp4",
        )

    def count(endpoint: str, outcome: str) -> float | None:
        labels = {"platform": "tiktok", "endpoint": endpoint, "outcome": outcome}
        return registry.get_sample_value("herald_platform_requests_total", labels)

    assert count("/v2/video/query/", "ok") == 1  # the path without its query
    assert count("/v2/post/publish/creator_info/query/", "needs_reauth") == 1
    assert count("upload_url", "transient") == 1
    timed = {"platform": "tiktok", "endpoint": "/v2/video/query/"}
    assert registry.get_sample_value("herald_platform_request_seconds_count", timed) == 1
