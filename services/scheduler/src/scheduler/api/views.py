"""Stored documents → response bodies, and the opaque list cursor."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from herald.events import Violation
from scheduler.api.schemas import CampaignView, PostView, ScheduleView, TargetView
from scheduler.errors import Rejected
from scheduler.handlers.queries import PostWithTargets
from scheduler.ports import Doc


def post_view(item: PostWithTargets) -> PostView:
    post = item.post
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
            "targets": [target_view(t) for t in item.targets],
        }
    )


def target_view(target: Doc) -> TargetView:
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
        }
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
