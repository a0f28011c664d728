"""Stored documents → response bodies, and the opaque list cursor."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from herald.content import PostContent
from herald.events import Violation
from scheduler.api.schemas import (
    BroadcastSummary,
    CampaignView,
    PostView,
    RecipientCounts,
    ScheduleView,
    StageView,
    TargetView,
)
from scheduler.deliveries import Counts
from scheduler.domain import PostStatus
from scheduler.errors import Rejected
from scheduler.handlers.delivery_reads import Deliveries
from scheduler.handlers.queries import PostWithTargets
from scheduler.models import Campaign, Post, Role, Target, TargetState


def post_view(item: PostWithTargets) -> PostView:
    post = item.post
    total = item.deliveries.total
    return PostView(
        post_id=post.id,
        status=PostStatus(item.status),
        idempotency_key=post.idempotency_key,
        source=post.source,
        created_at=post.created_at,
        due_at=post.due_at,
        schedule=ScheduleView(publish_at=post.schedule.publish_at, timezone=post.schedule.timezone),
        content=PostContent.model_validate(post.content),
        campaign_id=post.campaign_id,
        external_ref=post.external_ref,
        targets=[target_view(t, post, item.deliveries) for t in item.targets],
        recipients=None if total is None else counts_view(total),
    )


def target_view(target: Target, post: Post, deliveries: Deliveries) -> TargetView:
    counts = deliveries.by_target.get(target.id)
    retrying = target.state is TargetState.RETRYING
    return TargetView(
        target_id=target.id,
        integration_id=target.integration_id,
        platform=target.platform,
        state=target.state,
        attempts=target.attempts,
        due_at=target.due_at,
        last_error=target.last_error,
        next_attempt_at=target.next_attempt_at if retrying else None,
        platform_post_id=target.platform_post_id,
        permalink=target.permalink,
        published_at=target.published_at,
        role=target.role.value,
        broadcast_target_id=target.batch.parent_target_id if target.batch else None,
        broadcast=_broadcast(target, post, deliveries),
        recipients=None if counts is None else counts_view(counts),
        stage=_stage(target),
    )


def _stage(target: Target) -> StageView | None:
    """The stage of a target on its way; none once it has an outcome (ADR 0018)."""
    if target.stage is None or target.state not in (TargetState.DISPATCHED, TargetState.RETRYING):
        return None
    return StageView.model_validate(target.stage)


def counts_view(counts: Counts) -> RecipientCounts:
    return RecipientCounts.model_validate(counts, from_attributes=True)


def _broadcast(target: Target, post: Post, deliveries: Deliveries) -> BroadcastSummary | None:
    if target.role is not Role.BROADCAST:
        return None
    summary = deliveries.broadcasts.get(target.id)
    return BroadcastSummary(
        audience_id=post.targets[target.index].audience_id,
        batches=None if summary is None else summary.batches,
        excluded={} if summary is None else summary.excluded,
    )


def campaign_view(campaign: Campaign, *, cancelled_posts: int | None = None) -> CampaignView:
    recurrence = campaign.recurrence
    return CampaignView(
        campaign_id=campaign.id,
        name=campaign.name,
        description=campaign.description,
        status=campaign.status,
        recurrence=None
        if recurrence is None
        else {
            "rule": recurrence.rule,
            "timezone": recurrence.timezone,
            "starts_at": recurrence.starts_at.isoformat(),
        },
        template=campaign.template,
        created_at=campaign.created_at,
        planned_until=campaign.planned_until,
        last_problems=list(campaign.last_problems),
        cancelled_posts=cancelled_posts,
    )


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
