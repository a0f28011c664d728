"""Stored documents → response bodies, and the opaque list cursor."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from herald.events import Violation
from scheduler.api.schemas import (
    BroadcastSummary,
    CampaignView,
    PostView,
    RecipientCounts,
    ScheduleView,
    TargetView,
)
from scheduler.deliveries import Counts
from scheduler.errors import Rejected
from scheduler.handlers.delivery_reads import Deliveries
from scheduler.handlers.queries import PostWithTargets
from scheduler.ports import Doc


def post_view(item: PostWithTargets) -> PostView:
    post = item.post
    total = item.deliveries.total
    return PostView.model_validate(
        {
            "post_id": post["_id"],
            "status": item.status,
            "idempotency_key": post["idempotency_key"],
            "source": post["source"],
            "created_at": post["created_at"],
            "due_at": post["due_at"],
            "schedule": ScheduleView.model_validate(post["schedule"]),
            "content": post["content"],
            "campaign_id": post.get("campaign_id"),
            "external_ref": post.get("external_ref"),
            "targets": [target_view(t, post, item.deliveries) for t in item.targets],
            "recipients": None if total is None else counts_view(total),
        }
    )


def target_view(target: Doc, post: Doc, deliveries: Deliveries) -> TargetView:
    counts = deliveries.by_target.get(target["_id"])
    return TargetView.model_validate(
        {
            "target_id": target["_id"],
            "integration_id": target["integration_id"],
            "platform": target["platform"],
            "state": target["state"],
            "attempts": target.get("attempts", 0),
            "due_at": target["due_at"],
            "last_error": target.get("last_error"),
            "next_attempt_at": target.get("next_attempt_at")
            if target["state"] == "retrying"
            else None,
            "platform_post_id": target.get("platform_post_id"),
            "permalink": target.get("permalink"),
            "published_at": target.get("published_at"),
            "role": target.get("role", "target"),
            "broadcast_target_id": target.get("parent_target_id"),
            "broadcast": _broadcast(target, post, deliveries),
            "recipients": None if counts is None else counts_view(counts),
        }
    )


def counts_view(counts: Counts) -> RecipientCounts:
    return RecipientCounts.model_validate(counts, from_attributes=True)


def _broadcast(target: Doc, post: Doc, deliveries: Deliveries) -> BroadcastSummary | None:
    if target.get("role") != "broadcast":
        return None
    summary = deliveries.broadcasts.get(target["_id"]) or {}
    return BroadcastSummary(
        audience_id=post["targets"][target["index"]]["options"].get("audience_id"),
        batches=summary.get("batches"),
        excluded=summary.get("excluded") or {},
    )


def campaign_view(campaign: Doc) -> CampaignView:
    return CampaignView.model_validate({**campaign, "campaign_id": campaign["_id"]})


def encode_cursor(after: tuple[datetime, str] | None) -> str | None:
    if after is None:
        return None
    raw = json.dumps([after[0].isoformat(), after[1]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, post_id = json.loads(raw)
        moment = datetime.fromisoformat(created)
        if moment.tzinfo is None or not isinstance(post_id, str):
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        message = "This cursor was not given by this API; pass next_cursor as it came."
        raise Rejected([Violation(path="cursor", message=message, code="invalid_format")]) from exc
    return moment, post_id


def encode_key(key: str | None) -> str | None:
    """An opaque cursor over a page ordered by one string key (an id, a phone number)."""
    if key is None:
        return None
    return base64.urlsafe_b64encode(json.dumps(["k", key]).encode()).decode().rstrip("=")


def decode_key(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        tag, key = json.loads(raw)
        if tag != "k" or not isinstance(key, str):
            raise ValueError(cursor)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        message = "This cursor was not given by this API; pass next_cursor as it came."
        raise Rejected([Violation(path="cursor", message=message, code="invalid_format")]) from exc
    return key
