"""Stored documents and the models: each record reads back as it was written, in the shape the
scheduler has always stored, and documents written before the models existed still read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from herald.errors import ErrorCategory
from herald.events import FailureDetail, Schedule, Violation
from herald.topics import Platform
from scheduler.adapters.documents import (
    changes_document,
    fact_document,
    fact_of,
    post_document,
    post_of,
    rejection_document,
    target_document,
    target_of,
)
from scheduler.models import (
    Batch,
    BroadcastSummary,
    DispatchFact,
    Post,
    Rejection,
    Role,
    Target,
    TargetChanges,
    TargetSpec,
    TargetState,
)

pytestmark = pytest.mark.unit

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
ERROR = FailureDetail(category=ErrorCategory.PERMANENT, code="100", message="Invalid parameter")
POST = Post(
    id="p1",
    business_id="b1",
    idempotency_key="k1",
    fingerprint="f",
    source="api",
    content={"text": "hello"},
    targets=(
        TargetSpec("ig-1", Platform.INSTAGRAM, {"platform": "instagram", "kind": "feed"}),
        TargetSpec("fb-1", Platform.FACEBOOK, {"platform": "facebook"}),
    ),
    schedule=Schedule(publish_at=NOW, timezone="Europe/Lisbon"),
    due_at=NOW,
    draft=False,
    target_ids=("p1-0", "p1-1"),
    created_at=NOW,
)
TARGET = Target(
    id="p1-0",
    post_id="p1",
    business_id="b1",
    index=0,
    integration_id="fb-1",
    platform=Platform.FACEBOOK,
    due_at=NOW,
    epoch=1,
    epoch_started_at=NOW,
    state=TargetState.SCHEDULED,
    updated_at=NOW,
)


def test_a_post_reads_back_as_written_with_its_listing_fields() -> None:
    doc = post_document(POST)
    assert post_of(doc) == POST
    assert (doc["platforms"], doc["integration_ids"]) == (
        ["facebook", "instagram"],
        ["ig-1", "fb-1"],
    )
    assert doc["targets"][0] == {
        "integration_id": "ig-1",
        "platform": "instagram",
        "options": {"platform": "instagram", "kind": "feed"},
    }
    assert doc["schedule"] == {"publish_at": NOW, "timezone": "Europe/Lisbon"}


def test_a_new_target_is_stored_in_the_shape_it_always_had() -> None:
    doc = target_document(TARGET)
    assert set(doc) == {
        "_id", "post_id", "business_id", "index", "role", "integration_id", "platform", "due_at",
        "epoch", "epoch_started_at", "state", "attempts", "last_error", "platform_post_id",
        "permalink", "published_at", "updated_at",
    }  # fmt: skip
    assert (doc["role"], doc["state"], doc["platform"]) == ("target", "scheduled", "facebook")
    assert target_of(doc) == TARGET


def test_a_batch_stores_its_count_and_reads_outcomes_that_replaced_it() -> None:
    batch = replace(TARGET, id="p1-0.2", role=Role.BATCH, batch=Batch("p1-0", 2, 3))
    doc = target_document(batch)
    assert (doc["parent_target_id"], doc["batch"], doc["recipients"]) == ("p1-0", 2, 3)
    assert target_of(doc) == batch
    outcomes = [{"recipient_id": "ct_1", "status": "accepted"}]
    published = target_of({**doc, "state": "published", "recipients": outcomes})
    assert published.batch == Batch("p1-0", 2, None)
    assert published.outcomes == tuple(outcomes)


def test_a_target_written_before_roles_and_attempts_reads_with_defaults() -> None:
    old = {
        k: v
        for k, v in target_document(TARGET).items()
        if k not in {"role", "attempts", "last_error"}
    }
    read = target_of({**old, "last_error": ERROR.model_dump(mode="json")})
    assert (read.role, read.attempts, read.last_error) == (Role.TARGET, 0, ERROR)
    assert target_of(old).last_error is None


def test_changes_are_written_in_the_stored_names_and_forms() -> None:
    outcomes = ({"recipient_id": "ct_1", "status": "accepted"},)
    published = TargetChanges(state=TargetState.PUBLISHED, outcomes=outcomes, attempts=2)
    assert changes_document(published) == {
        "state": "published",
        "attempts": 2,
        "recipients": list(outcomes),
    }
    failed = TargetChanges(last_error=ERROR, updated_at=NOW)
    assert changes_document(failed) == {
        "last_error": ERROR.model_dump(mode="json"),
        "updated_at": NOW,
    }
    assert changes_document(TargetChanges(last_error=None)) == {"last_error": None}
    assert changes_document(TargetChanges()) == {}


def test_a_dispatch_fact_and_a_broadcast_summary_read_back() -> None:
    fact = DispatchFact("p1-0", "p1", 2, NOW, NOW, "p1-0:2:0", "r1", "post.requested.facebook")
    doc = fact_document(fact)
    assert doc["_id"] == "p1-0:2"
    assert "broadcast" not in doc
    assert fact_of(doc) == fact
    summary = BroadcastSummary(batches=3, recipients=250, skipped=1, excluded={"opted_out": 2})
    expanded = replace(fact, broadcast=summary)
    assert fact_document(expanded)["broadcast"] == vars(summary)
    assert fact_of(fact_document(expanded)) == expanded


def test_a_rejected_submission_names_its_key_and_a_status_does_not() -> None:
    violation = Violation(path="(event)", message="not JSON", code="json_invalid")
    rejection = Rejection("t:0:7", "b1", "e1", [violation], b"\xff", {"ce_id": "e1"}, NOW)
    doc = rejection_document(rejection)
    assert doc == {
        "_id": "t:0:7",
        "business_id": "b1",
        "idempotency_key": None,
        "source_event_id": "e1",
        "violations": [violation.model_dump()],
        "body_base64": "/w==",
        "headers": {"ce_id": "e1"},
        "rejected_at": NOW,
    }
    status = replace(rejection, submission=False)
    assert "idempotency_key" not in rejection_document(status)
