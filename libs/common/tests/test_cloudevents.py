"""CloudEvents over Kafka: binary on produce; binary and structured on consume; clear refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from herald.cloudevents import decode, encode
from herald.content import PostContent
from herald.errors import InvalidEvent
from herald.events import (
    IntegrationExpired,
    IntegrationStatus,
    PostRequested,
    PostRetryScheduled,
    PostSubmitted,
    RetryReason,
    SubmittedTarget,
)
from herald.topics import Platform
from herald.tracing import TraceContext

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
SUBMITTED = PostSubmitted(
    business_id="b1",
    idempotency_key="k-1",
    content=PostContent(text="Hello"),
    targets=[SubmittedTarget(integration_id="i1", platform=Platform.FACEBOOK)],
)


TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_binary_mode_headers_and_round_trip() -> None:
    trace = TraceContext(TRACEPARENT, "vendor=x")
    body, headers = encode(SUBMITTED, source="herald/test", event_id="e1", time=NOW, trace=trace)

    assert headers == {
        "ce_specversion": "1.0",
        "ce_id": "e1",
        "ce_source": "herald/test",
        "ce_type": "herald.post.submitted.v1",
        "ce_time": "2026-11-26T12:00:00+00:00",
        "content-type": "application/json",
        "ce_subject": "k-1",
        "ce_businessid": "b1",
        "traceparent": TRACEPARENT,
        "tracestate": "vendor=x",
        "ce_traceparent": TRACEPARENT,
        "ce_tracestate": "vendor=x",
    }
    envelope = decode(body, headers, expect=(PostSubmitted,))
    assert envelope.event == SUBMITTED
    assert envelope.trace == trace
    assert (envelope.id, envelope.business_id, envelope.time) == ("e1", "b1", NOW)


def test_structured_mode_is_accepted_where_allowed() -> None:
    document = {
        "specversion": "1.0",
        "id": "ext-9",
        "source": "crm/campaigns",
        "type": "herald.post.submitted.v1",
        "time": "2026-11-26T12:00:00Z",
        "datacontenttype": "application/json",
        "businessid": "b1",
        "data": SUBMITTED.model_dump(mode="json"),
    }
    headers = {"content-type": "application/cloudevents+json; charset=utf-8"}

    envelope = decode(json.dumps(document).encode(), headers, accept_structured=True)

    assert envelope.event == SUBMITTED
    assert (envelope.id, envelope.source) == ("ext-9", "crm/campaigns")
    with pytest.raises(InvalidEvent, match="structured-mode CloudEvents are not accepted"):
        decode(json.dumps(document).encode(), headers)


def _headers(**overrides: str) -> dict[str, str]:
    base = {
        "ce_specversion": "1.0",
        "ce_id": "e1",
        "ce_source": "s",
        "ce_type": "herald.post.submitted.v1",
    }
    return {**base, **overrides}


@pytest.mark.parametrize(
    ("body", "headers", "code", "reason"),
    [
        (b"{not json", _headers(), "not_json", "body is not JSON"),
        (b"\xff\xfe", _headers(), "not_json", "body is not JSON"),
        (
            b"{}",
            {"ce_specversion": "1.0", "ce_type": "x"},
            "bad_headers",
            "missing CloudEvents header(s): ce_id, ce_source",
        ),
        (
            b"{}",
            _headers(ce_specversion="0.3"),
            "bad_headers",
            "ce_specversion '0.3' is not supported",
        ),
        (
            b"{}",
            _headers(ce_type="herald.post.exploded.v1"),
            "unknown_type",
            "unknown event type 'herald.post.exploded.v1'",
        ),
        (
            b"{}",
            _headers(**{"content-type": "text/plain"}),
            "bad_headers",
            "content-type 'text/plain'",
        ),
        (
            b"{}",
            _headers(ce_time="yesterday"),
            "bad_headers",
            "ce_time 'yesterday' is not an RFC 3339 time",
        ),
        (b'{"business_id": "b1"}', _headers(), "invalid_event", "idempotency_key: Field required"),
    ],
)
def test_malformed_input_is_refused_with_a_reason(
    body: bytes, headers: dict[str, str], code: str, reason: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode(body, headers, expect=(PostSubmitted,))
    assert caught.value.code == code
    assert reason in caught.value.reason


def test_an_event_of_another_topic_is_refused() -> None:
    event = IntegrationExpired(
        integration_id="i1", business_id="b1", platform=Platform.TIKTOK, account_id="o1",
        status=IntegrationStatus.EXPIRED, occurred_at=NOW,
    )  # fmt: skip
    body, headers = encode(event, source="herald/auth-service")
    with pytest.raises(InvalidEvent, match="does not belong here"):
        decode(body, headers, expect=(PostRequested,))


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    data = {**SUBMITTED.model_dump(mode="json"), "added_in_v1_1": {"anything": True}}
    envelope = decode(json.dumps(data).encode(), _headers())
    assert envelope.event == SUBMITTED


def test_options_must_match_the_target_platform() -> None:
    data = SUBMITTED.model_dump(mode="json")
    data["targets"][0]["options"] = {"platform": "tiktok", "privacy_level": "SELF_ONLY"}
    with pytest.raises(InvalidEvent, match="options are for tiktok, target is facebook"):
        decode(json.dumps(data).encode(), _headers())


def test_a_retry_names_the_next_attempt_and_the_old_field_name_still_reads() -> None:
    retry = PostRetryScheduled(
        post_id="p1", target_id="p1-0", business_id="b1", integration_id="i1",
        platform=Platform.FACEBOOK, next_attempt=3, reason=RetryReason.RETRY,
        next_attempt_at=NOW, tier="10s",
    )  # fmt: skip
    body, headers = encode(retry, source="herald/publisher-facebook")
    data = json.loads(body)
    assert (data["next_attempt"], "attempt" in data) == (3, False)
    # Publishers before the rename sent the same number as `attempt`.
    old = {**{k: v for k, v in data.items() if k != "next_attempt"}, "attempt": 3}
    envelope = decode(json.dumps(old).encode(), headers, expect=(PostRetryScheduled,))
    assert envelope.event == retry
