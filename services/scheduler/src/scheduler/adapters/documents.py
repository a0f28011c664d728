"""Posts, targets, history entries, dispatch facts and rejections as stored documents, and back.

The shapes are those the scheduler has always written (docs/adr/0006-scheduler-dispatch-and-
state.md): a reader takes documents written before these models existed, so a field missing
from older documents is read with its default.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from herald.events import FailureDetail, Schedule
from herald.mongo import Document
from herald.topics import Platform
from herald.tracing import TraceContext
from scheduler.domain import dispatch_id
from scheduler.models import (
    Batch,
    BroadcastSummary,
    DispatchFact,
    HistoryEntry,
    Post,
    Rejection,
    Role,
    Target,
    TargetChanges,
    TargetSpec,
    TargetState,
)

Stored = Mapping[str, Any]


def post_document(post: Post) -> Document:
    targets = [
        {"integration_id": t.integration_id, "platform": t.platform.value, "options": t.options}
        for t in post.targets
    ]
    return {
        "_id": post.id,
        "business_id": post.business_id,
        "idempotency_key": post.idempotency_key,
        "fingerprint": post.fingerprint,
        "source": post.source,
        "content": post.content,
        "targets": targets,
        "schedule": {"publish_at": post.schedule.publish_at, "timezone": post.schedule.timezone},
        "due_at": post.due_at,
        "campaign_id": post.campaign_id,
        "external_ref": post.external_ref,
        "source_event_id": post.source_event_id,
        "draft": post.draft,
        # Derived, for the listing's filters.
        "platforms": post.platforms,
        "integration_ids": post.integration_ids,
        "target_ids": list(post.target_ids),
        "created_at": post.created_at,
        "trace": post.trace.document() if post.trace else None,
    }


def post_of(doc: Stored) -> Post:
    schedule = doc["schedule"]
    return Post(
        id=doc["_id"],
        business_id=doc["business_id"],
        idempotency_key=doc["idempotency_key"],
        fingerprint=doc["fingerprint"],
        source=doc["source"],
        content=doc["content"],
        targets=tuple(
            TargetSpec(t["integration_id"], Platform(t["platform"]), t.get("options") or {})
            for t in doc["targets"]
        ),
        schedule=Schedule(publish_at=schedule["publish_at"], timezone=schedule["timezone"]),
        due_at=doc["due_at"],
        draft=doc["draft"],
        target_ids=tuple(doc["target_ids"]),
        created_at=doc["created_at"],
        campaign_id=doc.get("campaign_id"),
        external_ref=doc.get("external_ref"),
        trace=TraceContext.from_document(doc.get("trace")),
        source_event_id=doc.get("source_event_id"),
    )


def target_document(target: Target) -> Document:
    """A new target. What it sends (a batch's options) is not stored: its recipients are."""
    doc: Document = {
        "_id": target.id,
        "post_id": target.post_id,
        "business_id": target.business_id,
        "index": target.index,
        "role": target.role.value,
        "integration_id": target.integration_id,
        "platform": target.platform.value,
        "due_at": target.due_at,
        "epoch": target.epoch,
        "epoch_started_at": target.epoch_started_at,
        "state": target.state.value,
        "attempts": target.attempts,
        "last_error": _error(target.last_error),
        "platform_post_id": target.platform_post_id,
        "permalink": target.permalink,
        "published_at": target.published_at,
        "updated_at": target.updated_at,
    }
    if target.batch is not None:
        doc["parent_target_id"] = target.batch.parent_target_id
        doc["batch"] = target.batch.number
        doc["recipients"] = target.batch.size
    for name, value in (
        ("failed_at", target.failed_at),
        ("next_attempt_at", target.next_attempt_at),
    ):
        if value is not None:
            doc[name] = value
    if target.outcomes is not None:
        doc["recipients"] = list(target.outcomes)
    return doc


def target_of(doc: Stored) -> Target:
    # One field holds a batch's recipient count, then the outcomes its publication reported.
    recipients = doc.get("recipients")
    parent = doc.get("parent_target_id")
    batch = None
    if parent is not None:
        size = recipients if isinstance(recipients, int) else None
        batch = Batch(parent, doc["batch"], size)
    error = doc.get("last_error")
    options = doc.get("options")  # only in targets stored before batches were rebuilt
    return Target(
        id=doc["_id"],
        post_id=doc["post_id"],
        business_id=doc["business_id"],
        index=doc["index"],
        integration_id=doc["integration_id"],
        platform=Platform(doc["platform"]),
        due_at=doc["due_at"],
        epoch=doc["epoch"],
        epoch_started_at=doc["epoch_started_at"],
        state=TargetState(doc["state"]),
        updated_at=doc["updated_at"],
        role=Role(doc.get("role", Role.TARGET.value)),
        attempts=doc.get("attempts", 0),
        last_error=FailureDetail.model_validate(error) if error else None,
        platform_post_id=doc.get("platform_post_id"),
        permalink=doc.get("permalink"),
        published_at=doc.get("published_at"),
        failed_at=doc.get("failed_at"),
        next_attempt_at=doc.get("next_attempt_at"),
        outcomes=tuple(recipients) if isinstance(recipients, list) else None,
        batch=batch,
        stage=stage if isinstance(stage := doc.get("stage"), dict) else None,
        options=options if isinstance(options, dict) else None,
    )


def changes_document(changes: TargetChanges) -> Document:
    """The `$set` of a target's changes, in the stored fields' names and forms."""
    doc: Document = {}
    for name, value in changes.written().items():
        if isinstance(value, TargetState):
            doc[name] = value.value
        elif isinstance(value, FailureDetail):
            doc[name] = _error(value)
        elif name == "outcomes":
            doc["recipients"] = list(value)
        else:
            doc[name] = value
    return doc


def _error(error: FailureDetail | None) -> dict[str, Any] | None:
    return None if error is None else error.model_dump(mode="json")


def history_document(entry: HistoryEntry) -> Document:
    doc: Document = {
        "_id": entry.id,
        "post_id": entry.post_id,
        "target_id": entry.target_id,
        "kind": entry.kind,
        "at": entry.at,
    }
    if entry.recorded_at is not None:
        doc["recorded_at"] = entry.recorded_at
    if entry.epoch is not None:
        doc["epoch"] = entry.epoch
    doc["detail"] = entry.detail
    return doc


def history_of(doc: Stored) -> HistoryEntry:
    return HistoryEntry(
        id=doc["_id"],
        post_id=doc["post_id"],
        target_id=doc.get("target_id"),
        kind=doc["kind"],
        at=doc["at"],
        detail=doc.get("detail") or {},
        recorded_at=doc.get("recorded_at"),
        epoch=doc.get("epoch"),
    )


def fact_document(fact: DispatchFact) -> Document:
    doc: Document = {
        "_id": dispatch_id(fact.target_id, fact.epoch),
        "target_id": fact.target_id,
        "post_id": fact.post_id,
        "epoch": fact.epoch,
        "due_at": fact.due_at,
        "dispatched_at": fact.dispatched_at,
        "claim": fact.claim,
        "owner": fact.owner,
        "topic": fact.topic,
    }
    if fact.broadcast is not None:
        summary = fact.broadcast
        doc["broadcast"] = {
            "batches": summary.batches,
            "recipients": summary.recipients,
            "skipped": summary.skipped,
            "excluded": summary.excluded,
        }
    return doc


def fact_of(doc: Stored) -> DispatchFact:
    summary = doc.get("broadcast")
    return DispatchFact(
        target_id=doc["target_id"],
        post_id=doc["post_id"],
        epoch=doc["epoch"],
        due_at=doc["due_at"],
        dispatched_at=doc["dispatched_at"],
        claim=doc["claim"],
        owner=doc["owner"],
        topic=doc["topic"],
        broadcast=None
        if not summary
        else BroadcastSummary(
            batches=summary["batches"],
            recipients=summary["recipients"],
            skipped=summary["skipped"],
            excluded=summary["excluded"],
        ),
    )


def rejection_document(rejection: Rejection) -> Document:
    doc: Document = {"_id": rejection.id, "business_id": rejection.business_id}
    if rejection.submission:
        doc["idempotency_key"] = rejection.idempotency_key
    doc.update(
        {
            "source_event_id": rejection.source_event_id,
            "violations": [v.model_dump() for v in rejection.violations],
            "body_base64": base64.b64encode(rejection.body).decode(),
            "headers": rejection.headers,
            "rejected_at": rejection.rejected_at,
        }
    )
    return doc
