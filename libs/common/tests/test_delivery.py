from __future__ import annotations

from datetime import UTC, datetime

import pytest

from herald.delivery import Delivery, dead_letter_headers, deferred_headers

pytestmark = pytest.mark.unit

DUE = datetime(2026, 11, 26, 12, 0, 10, tzinfo=UTC)
FIRST = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def test_deferred_headers_round_trip_and_keep_the_cloudevent() -> None:
    original = {"ce_id": "e1", "ce_type": "herald.post.requested.v1", "x-attempt": "1"}
    headers = deferred_headers(
        original, attempt=2, due_at=DUE, reason="retry", first_failure_at=FIRST,
        checkpoint="container_created", origin_topic="post.requested.instagram",
    )  # fmt: skip
    assert headers["ce_id"] == "e1"
    assert headers["x-origin-topic"] == "post.requested.instagram"
    delivery = Delivery.from_headers(headers)
    assert delivery == Delivery(
        attempt=2,
        due_at=DUE,
        reason="retry",
        first_failure_at=FIRST,
        checkpoint="container_created",
    )


def test_malformed_delivery_headers_are_treated_as_absent() -> None:
    delivery = Delivery.from_headers(
        {"x-attempt": "two", "x-due-at": "soon", "x-first-failure-at": "9" * 40}
    )
    assert delivery == Delivery()


def test_dead_letter_headers_say_why_and_where_from() -> None:
    headers = dead_letter_headers(
        {"ce_id": "e1"},
        error={"category": "transient", "code": "2", "message": "x" * 2000, "subcode": None},
        source_topic="post.requested.facebook.delay.10m", partition=3, offset=42, failed_at=FIRST,
    )  # fmt: skip
    assert headers["ce_id"] == "e1"
    assert headers["x-error-category"] == "transient"
    assert headers["x-error-code"] == "2"
    assert len(headers["x-error-message"]) == 1000
    assert "x-error-subcode" not in headers
    assert headers["x-error-topic"] == "post.requested.facebook.delay.10m"
    assert (headers["x-error-partition"], headers["x-error-offset"]) == ("3", "42")
