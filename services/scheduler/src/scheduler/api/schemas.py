"""Request and response bodies of the REST API (the OpenAPI document is generated from these)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, NaiveDatetime, StrictBool

from herald.content import PostContent
from herald.events import FailureDetail, ProcessingStage, Schedule, SubmittedTarget, Violation
from herald.inputs import ApiBody
from herald.topics import Platform
from scheduler.domain import PostStatus
from scheduler.models import TargetState


def _rfc3339(value: Any) -> Any:
    """Lax pydantic reads a bare number as a Unix time; the documented format is RFC 3339."""
    if not isinstance(value, str | datetime) or _NUMBER.fullmatch(str(value)):
        msg = "expected an RFC 3339 date-time, e.g. 2031-03-30T09:00:00+01:00"
        raise ValueError(msg)
    return value


_NUMBER = re.compile(r"\s*[+-]?\d+(\.\d*)?([eE][+-]?\d+)?\s*")
Moment = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
LocalOrAware = Annotated[datetime, BeforeValidator(_rfc3339)]


class ScheduleIn(ApiBody):
    publish_at: LocalOrAware | None = Field(
        default=None,
        description="When to publish. Absent: now. Without an offset it is read in `timezone`.",
    )
    timezone: str | None = Field(default=None, max_length=64, examples=["Europe/Lisbon"])

    def to_schedule(self) -> Schedule:
        return Schedule(publish_at=self.publish_at, timezone=self.timezone)


class PostCreate(ApiBody):
    content: PostContent
    targets: list[SubmittedTarget] = Field(min_length=1, max_length=50)
    schedule: ScheduleIn = Field(
        default_factory=ScheduleIn, description="Absent or without publish_at: publish now."
    )
    campaign_id: str | None = Field(default=None, max_length=64)
    external_ref: str | None = Field(default=None, max_length=255)
    draft: StrictBool = Field(
        default=False, description="Save without scheduling; schedule it later."
    )


class ListQuery(ApiBody):
    status: PostStatus | None = None
    platform: Platform | None = None
    integration_id: str | None = Field(default=None, max_length=64)
    campaign_id: str | None = Field(default=None, max_length=64)
    due_from: Moment | None = Field(default=None, description="Due at or after.")
    due_to: Moment | None = Field(default=None, description="Due before.")
    external_ref: str | None = Field(
        default=None, min_length=1, max_length=255, description="Posts submitted with this ref."
    )
    idempotency_key: str | None = Field(
        default=None, min_length=1, max_length=255, description="The post with this key."
    )
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=512)


class ScheduleDraft(ApiBody):
    schedule: ScheduleIn | None = Field(default=None, description="Absent: the draft's own.")


class Reschedule(ApiBody):
    publish_at: LocalOrAware = Field(
        description="The new publish time. Without an offset it is read in `timezone`.",
        examples=["2031-03-30T10:30:00"],
    )
    timezone: str | None = Field(default=None, max_length=64, examples=["Europe/Lisbon"])

    def to_schedule(self) -> Schedule:
        return Schedule(publish_at=self.publish_at, timezone=self.timezone)


class RecipientCounts(BaseModel):
    recipients: int = Field(description="Recipients of the post (skipped ones included).")
    by_state: dict[str, int] = Field(description="Each recipient once, by its furthest state.")
    accepted: int = Field(
        default=0,
        description="Accepted by WhatsApp (given a message id), whatever became of them since.",
    )
    sent: int = Field(description="Reached at least sent (sent, delivered or read).")
    delivered: int = Field(description="Reached delivered or read.")
    read: int
    failed: int = Field(description="Failed: refused when sent, or not delivered after.")


class BroadcastSummary(BaseModel):
    audience_id: str | None
    batches: int | None = Field(description="Null until the broadcast is expanded.")
    excluded: dict[str, int] = Field(
        description="Contacts left out at expansion: not_opted_in, opted_out, undeliverable."
    )


class StageView(BaseModel):
    stage: ProcessingStage = Field(
        description="uploading (media being sent; bytes_sent of bytes_total), processing (the "
        "platform is processing it: a media container, an upload, a video), "
        "publishing (being made public; WhatsApp: messages still being sent)."
    )
    detail: str | None = Field(description="The platform's own status, e.g. IN_PROGRESS.")
    bytes_sent: int | None = None
    bytes_total: int | None = None
    at: AwareDatetime = Field(description="When the publisher reported it.")


class TargetView(BaseModel):
    target_id: str
    integration_id: str
    platform: Platform
    state: TargetState = Field(
        description="draft, scheduled, dispatched (with a publisher), retrying, published, "
        "failed, cancelled. A WhatsApp target is `published` once WhatsApp accepted its "
        "messages and until every recipient is known to have failed: then it reads `failed`, "
        "with the recipients' common error in `last_error`; `recipients` counts how far "
        "delivery got (ADR 0018)."
    )
    attempts: int = Field(description="Publishing attempts reported by the publisher.")
    due_at: AwareDatetime
    last_error: FailureDetail | None = Field(
        description="The latest failure: the platform's code and what a person can do about it."
    )
    next_attempt_at: AwareDatetime | None = None
    platform_post_id: str | None
    permalink: str | None
    published_at: AwareDatetime | None
    role: str = Field(
        default="target",
        description="target; broadcast (a WhatsApp target to an audience, expanded into batches "
        "at its due time); batch (up to N recipients of a broadcast, dispatched on its own).",
    )
    broadcast_target_id: str | None = Field(default=None, description="A batch's broadcast.")
    broadcast: BroadcastSummary | None = None
    recipients: RecipientCounts | None = Field(
        default=None, description="WhatsApp targets with recipients (not batches): deliveries."
    )
    stage: StageView | None = Field(
        default=None,
        description="While the target is dispatched or retrying: where its platform flow is "
        "(ADR 0018); null before, and once it is published, failed or cancelled.",
    )


class ScheduleView(BaseModel):
    publish_at: AwareDatetime | None = Field(description="The time asked for, in UTC.")
    timezone: str | None


class PostView(BaseModel):
    post_id: str
    status: PostStatus
    idempotency_key: str
    source: str = Field(description="api, event or campaign")
    created_at: AwareDatetime
    due_at: AwareDatetime
    schedule: ScheduleView
    content: PostContent
    campaign_id: str | None
    external_ref: str | None
    targets: list[TargetView]
    recipients: RecipientCounts | None = Field(
        default=None,
        description="WhatsApp posts, on GET /v1/posts/{id} only: deliveries over all recipients.",
    )


class PostPage(BaseModel):
    items: list[PostView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: done.")


class Changed(BaseModel):
    post: PostView
    changed: list[str] = Field(description="Ids of the targets this call changed.")
    skipped: dict[str, str] = Field(description="Target id → why it was left as it is.")


class HistoryEntry(BaseModel):
    at: AwareDatetime
    kind: str = Field(examples=["post.scheduled", "post.dispatched", "post.published"])
    target_id: str | None
    detail: dict[str, Any]


class History(BaseModel):
    post_id: str
    entries: list[HistoryEntry]


class ErrorBody(BaseModel):
    error: str = Field(examples=["invalid_request", "not_found", "unauthorized"])
    message: str
    violations: list[Violation] = Field(
        default_factory=list, description="Every problem with the input, each with its path."
    )


class RecurrenceSpec(ApiBody):
    rule: str = Field(
        min_length=1, max_length=500, examples=["FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0"]
    )
    timezone: str = Field(min_length=1, max_length=64, examples=["Europe/Lisbon"])
    starts_at: NaiveDatetime = Field(description="Local time of the first occurrence, no offset.")


class TemplateSpec(ApiBody):
    content: PostContent
    targets: list[SubmittedTarget] = Field(min_length=1, max_length=50)


class CampaignCreate(ApiBody):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    recurrence: RecurrenceSpec | None = None
    template: TemplateSpec | None = None


class CampaignView(BaseModel):
    campaign_id: str
    name: str
    description: str | None
    status: str = Field(description="active or ended")
    recurrence: dict[str, Any] | None
    template: dict[str, Any] | None
    created_at: AwareDatetime
    planned_until: datetime | None = Field(description="Posts exist for occurrences up to here.")
    last_problems: list[str]
    cancelled_posts: int | None = Field(
        default=None,
        description="Answering an end: how many future posts of the campaign were cancelled.",
    )


class CampaignList(BaseModel):
    items: list[CampaignView]
