"""Graph answers → error classes, through `httpx.MockTransport` (platform-apis.md §1.4, §2.4, §5.5).

Each row is one answer Graph gives: the HTTP status and the error envelope, and the class the
client must raise. HTTP status alone never decides when an envelope carries a known code.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from herald.errors import NeedsReauth, Permanent, PlatformError, Throttled, Transient
from herald.graph import AmbiguousOutcome, GraphClient, GraphSettings

pytestmark = pytest.mark.unit


def envelope(code: int, subcode: int | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": f"(#{code}) boom", "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    error["fbtrace_id"] = "AbCdEf"
    return {"error": error}


def client_answering(status: int, body: Any, headers: dict[str, str] | None = None) -> GraphClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return GraphClient(http, GraphSettings(), platform="facebook")


TABLE: list[tuple[str, int, Any, type[PlatformError]]] = [
    # generic Graph codes (§5.2)
    ("unknown, possibly transient", 500, envelope(1), Transient),
    ("service unavailable", 503, envelope(2), Transient),
    ("application limit reached", 400, envelope(341), Transient),
    ("app throttled", 400, envelope(4), Throttled),
    ("user throttled", 400, envelope(17), Throttled),
    ("pages with user token", 400, envelope(32), Throttled),
    ("custom rate limit", 400, envelope(613), Throttled),
    ("pages BUC", 400, envelope(80001), Throttled),
    ("instagram BUC", 400, envelope(80002), Throttled),
    ("whatsapp management BUC", 400, envelope(80008), Throttled),
    ("token expired", 401, envelope(190, 463), NeedsReauth),
    ("token without subcode", 400, envelope(190), NeedsReauth),
    ("user checkpointed", 400, envelope(190, 459), NeedsReauth),
    ("page role lost", 400, envelope(190, 492), NeedsReauth),
    ("session", 400, envelope(102), NeedsReauth),
    ("permission denied", 403, envelope(10), NeedsReauth),
    ("permission range", 400, envelope(200), NeedsReauth),
    ("permission range end", 400, envelope(299), NeedsReauth),
    ("invalid parameter", 400, envelope(100), Permanent),
    ("duplicate post", 400, envelope(506), Permanent),
    ("policy block", 400, envelope(368), Permanent),
    ("link error", 400, envelope(1609005), Permanent),
    ("invalid photo", 400, envelope(324), Permanent),
    # Instagram publishing (§2.4): the subcode decides, even against its code's usual meaning
    ("media download timed out", 400, envelope(-2, 2207003), Transient),
    ("ig server error", 400, envelope(-1, 2207001), Transient),
    ("create media failed", 400, envelope(-1, 2207032), Transient),
    ("video upload unknown", 400, envelope(-1, 2207053), Transient),
    ("thumbnail offset", 400, envelope(1, 2207057), Permanent),
    ("spam restriction is code 4 but not a throttle", 400, envelope(4, 2207051), Permanent),
    ("daily publishing limit", 400, envelope(9, 2207042), Throttled),
    ("container expired", 400, envelope(24, 2207008), Transient),
    ("account restricted", 400, envelope(25, 2207050), Permanent),
    ("account restricted under code 10", 400, envelope(10, 2207050), Permanent),
    ("unknown media type", 400, envelope(100, 2207023), Permanent),
    ("carousel item count", 400, envelope(100, 2207028), Permanent),
    ("video format", 400, envelope(352, 2207026), Permanent),
    ("media not fetchable", 400, envelope(9004, 2207052), Permanent),
    ("container not ready", 400, envelope(9007, 2207027), Transient),
    ("image too large", 400, envelope(36000, 2207004), Permanent),
    ("aspect ratio", 400, envelope(36003, 2207009), Permanent),
    ("caption too long", 400, envelope(36004, 2207010), Permanent),
    # WhatsApp codes the same client will see (§3.6)
    ("whatsapp generic", 500, envelope(131000), Transient),
    ("whatsapp throughput", 429, envelope(130429), Throttled),
    ("whatsapp pair rate", 400, envelope(131056), Throttled),
    # fallbacks: is_transient, then status; a 200 with an envelope is still an error
    ("unknown code marked transient", 400, envelope(99999, is_transient=True), Transient),
    ("unknown code on a 5xx", 502, envelope(99999), Transient),
    ("unknown code on a 4xx", 400, envelope(99999), Permanent),
    ("no envelope, 5xx", 503, b"<html>Service Unavailable</html>", Transient),
    ("no envelope, 429", 429, b"slow down", Transient),
    ("no envelope, 4xx", 404, b"not found", Permanent),
    ("json but not an envelope", 400, {"unexpected": True}, Permanent),
    ("error on a 200", 200, envelope(100), Permanent),
]


@pytest.mark.parametrize(("case", "status", "body", "expected"), TABLE, ids=[t[0] for t in TABLE])
async def test_a_get_answer_is_classified_by_code_and_subcode(
    case: str, status: int, body: Any, expected: type[PlatformError]
) -> None:
    graph = client_answering(status, body)

    with pytest.raises(PlatformError) as raised:
        await graph.get("tok", "{node}", ids={"node": "1"})

    assert type(raised.value) is expected, case
    assert raised.value.remediation
    assert raised.value.http_status == status


@pytest.mark.parametrize("code", [10, 25])
async def test_a_restricted_instagram_account_is_not_told_to_reconnect(code: int) -> None:
    """2207050: the account is restricted or inactive (platform-apis.md §2.4, "needs user
    action"). A new token changes nothing, so no refresh, no reconnect: the person resolves the
    notice in the Instagram app and retries."""
    graph = client_answering(400, envelope(code, 2207050))

    with pytest.raises(PlatformError) as raised:
        await graph.get("tok", "{node}", ids={"node": "1"})

    assert not isinstance(raised.value, NeedsReauth)
    assert raised.value.remediation is not None
    assert "reconnect" not in raised.value.remediation.lower()
    assert "Instagram app" in raised.value.remediation


async def test_code_subcode_fbtrace_and_user_message_are_kept() -> None:
    body = envelope(9, 2207042, error_user_msg="You reached the limit")
    graph = client_answering(400, body)

    with pytest.raises(Throttled) as raised:
        await graph.get("tok", "{node}", ids={"node": "1"})

    error = raised.value
    assert (error.code, error.subcode) == ("9", "2207042")
    assert error.evidence["fbtrace_id"] == "AbCdEf"
    assert "You reached the limit" in error.message


async def test_a_throttle_carries_the_regain_time_from_the_usage_header() -> None:
    usage = {
        "17841400": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]
    }
    graph = client_answering(400, envelope(80001), {"x-business-use-case-usage": json.dumps(usage)})

    with pytest.raises(Throttled) as raised:
        await graph.get("tok", "{page}/feed", ids={"page": "1"})

    assert raised.value.retry_after_s == 7 * 60


async def test_a_throttle_without_regain_time_leaves_the_wait_to_the_policy() -> None:
    graph = client_answering(400, envelope(4), {"x-app-usage": '{"call_count": 100}'})

    with pytest.raises(Throttled) as raised:
        await graph.get("tok", "me")

    assert raised.value.retry_after_s is None


POST_AMBIGUOUS: list[tuple[str, int, Any]] = [
    ("graph 500 code 2", 500, envelope(2)),
    ("graph 500 code 1", 500, envelope(1)),
    ("a proxy's 502", 502, b"bad gateway"),
]


@pytest.mark.parametrize(
    ("case", "status", "body"), POST_AMBIGUOUS, ids=[t[0] for t in POST_AMBIGUOUS]
)
async def test_a_5xx_to_a_post_is_ambiguous(case: str, status: int, body: Any) -> None:
    graph = client_answering(status, body)

    with pytest.raises(AmbiguousOutcome) as raised:
        await graph.post("tok", "{page}/feed", ids={"page": "1"}, data={"message": "hi"})

    assert isinstance(raised.value, Transient), case


async def test_a_definite_refusal_of_a_post_is_not_ambiguous() -> None:
    graph = client_answering(400, envelope(2, is_transient=True))

    with pytest.raises(Transient) as raised:
        await graph.post("tok", "{page}/feed", ids={"page": "1"}, data={"message": "hi"})

    assert not isinstance(raised.value, AmbiguousOutcome)


def client_raising(exc: Exception) -> GraphClient:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return GraphClient(http, GraphSettings(), platform="instagram")


SENT = [
    httpx.ReadTimeout("read timed out"),
    httpx.WriteTimeout("write timed out"),
    httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
    httpx.ReadError("connection reset"),
]
NOT_SENT = [
    httpx.ConnectError("connection refused"),
    httpx.ConnectTimeout("connect timed out"),
    httpx.PoolTimeout("no free connection"),
]


@pytest.mark.parametrize("exc", SENT, ids=lambda e: type(e).__name__)
async def test_a_post_lost_after_sending_is_ambiguous_and_a_get_is_plain_transient(
    exc: Exception,
) -> None:
    with pytest.raises(AmbiguousOutcome):
        await client_raising(exc).post("tok", "{ig}/media_publish", ids={"ig": "1"}, data={})
    with pytest.raises(Transient) as raised:
        await client_raising(exc).get("tok", "{container}", ids={"container": "1"})
    assert not isinstance(raised.value, AmbiguousOutcome)


@pytest.mark.parametrize("exc", NOT_SENT, ids=lambda e: type(e).__name__)
async def test_a_call_that_never_left_is_plain_transient_even_for_a_post(exc: Exception) -> None:
    with pytest.raises(Transient) as raised:
        await client_raising(exc).post("tok", "{ig}/media_publish", ids={"ig": "1"}, data={})
    assert not isinstance(raised.value, AmbiguousOutcome)
