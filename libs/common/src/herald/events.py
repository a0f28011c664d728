"""The event contract: one pydantic model per event type on Kafka (docs/events.md).

Each model names its CloudEvents `type` (`herald.<noun>.<verb>.v<N>`) and the attribute that
becomes `ce_subject`. A breaking change is a new model with a new version, produced side by side
until consumers have moved. JSON Schemas in `docs/events/` are generated from these classes and a
test fails when they drift.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AliasChoices, AwareDatetime, Field, WithJsonSchema, model_validator

from herald.content import Model, PostContent, TargetOptions
from herald.errors import ErrorCategory
from herald.inputs import text_errors
from herald.topics import Platform


class Event(Model):
    """Base of every event body. `event_type` is the CloudEvents type; `subject_field` the id
    the event is about."""

    event_type: ClassVar[str]
    subject_field: ClassVar[str]

    @property
    def subject(self) -> str | None:
        value = getattr(self, self.subject_field)
        return None if value is None else str(value)


# JSON Schema's `date-time` format is RFC 3339, which requires an offset; a schedule may also
# give a local date and time, read in its `timezone`, so the schema says so with a pattern
# (validators with format checking on refused the documented example, issue 23).
LOCAL_DATE_TIME = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$"
)
LocalOrAwareDateTime = Annotated[
    datetime,
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "pattern": LOCAL_DATE_TIME},
            ]
        }
    ),
]


class Schedule(Model):
    publish_at: LocalOrAwareDateTime | None = Field(
        default=None,
        description="When to publish: an RFC 3339 date-time, or a local date and time "
        "(`2026-12-01T09:00:00`) read in `timezone`. Absent: now.",
    )
    timezone: str | None = Field(default=None, examples=["Europe/Lisbon"], description="IANA zone.")


class SubmittedTarget(Model):
    integration_id: str = Field(min_length=1, max_length=64)
    platform: Platform
    options: TargetOptions | None = None

    @model_validator(mode="after")
    def _options_match_platform(self) -> SubmittedTarget:
        if self.options is not None and self.options.platform != self.platform:
            msg = f"options are for {self.options.platform}, target is {self.platform.value}"
            raise ValueError(msg)
        return self


class PostSubmitted(Event):
    """A whole post from another system: content, targets, schedule, idempotency key."""

    event_type = "herald.post.submitted.v1"
    subject_field = "idempotency_key"

    business_id: str = Field(min_length=1, max_length=64)
    idempotency_key: str = Field(min_length=1, max_length=255)
    content: PostContent
    targets: list[SubmittedTarget] = Field(min_length=1, max_length=50)
    schedule: Schedule = Field(default_factory=Schedule)
    campaign_id: str | None = None
    external_ref: str | None = Field(default=None, max_length=255)

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        """Text from another system that could not be stored (a lone surrogate) makes the
        event invalid where it is read, naming the field, instead of failing at every insert."""
        problems = text_errors(data)
        if problems is not None:
            raise problems
        return data


class TargetRef(Event):
    """The fields every per-target event carries."""

    subject_field = "target_id"

    post_id: str
    target_id: str
    business_id: str
    integration_id: str
    platform: Platform


class PostRequested(TargetRef):
    """One target = one post on one connected account, for that platform's publisher."""

    event_type = "herald.post.requested.v1"

    content: PostContent
    options: TargetOptions
    due_at: AwareDatetime
    requested_at: AwareDatetime

    @model_validator(mode="after")
    def _options_match_platform(self) -> PostRequested:
        if self.options.platform != self.platform:
            msg = f"options are for {self.options.platform}, target is {self.platform.value}"
            raise ValueError(msg)
        return self


class RecipientOutcome(Model):
    recipient_id: str
    message_id: str | None = None
    status: str = Field(description="accepted, failed, skipped")
    error_code: str | None = None
    error_message: str | None = None
    remediation: str | None = Field(default=None, description="What a person can do about it.")


class PostPublished(TargetRef):
    event_type = "herald.post.published.v1"

    attempt: int = Field(ge=1)
    platform_post_id: str | None = Field(
        default=None, description="May arrive later (TikTok): then an update repeats this event."
    )
    permalink: str | None = None
    published_at: AwareDatetime
    recipients: list[RecipientOutcome] = Field(
        default_factory=list, description="WhatsApp: one entry per recipient of the batch."
    )


class FailureDetail(Model):
    category: ErrorCategory
    code: str | None = Field(default=None, description="The platform's own error code.")
    subcode: str | None = None
    message: str
    remediation: str | None = Field(default=None, description="What a person can do about it.")


class PostFailed(TargetRef):
    event_type = "herald.post.failed.v1"

    attempt: int = Field(ge=1)
    final: bool = Field(description="False only for a failure a retry may still overcome.")
    error: FailureDetail
    failed_at: AwareDatetime
    evidence: dict[str, Any] = Field(default_factory=dict)
    recipients: list[RecipientOutcome] = Field(default_factory=list)


class RetryReason(StrEnum):
    RETRY = "retry"
    WAIT = "wait"


class PostRetryScheduled(TargetRef):
    event_type = "herald.post.retry_scheduled.v1"

    # Named `attempt` until 2026-12: events of that form are still read (`validation_alias`).
    next_attempt: int = Field(
        ge=1,
        validation_alias=AliasChoices("next_attempt", "attempt"),
        description="The attempt that runs at next_attempt_at: the one after the attempt that "
        "failed (reason retry), or the same one again (reason wait).",
    )
    reason: RetryReason
    next_attempt_at: AwareDatetime
    tier: str
    error: FailureDetail | None = Field(default=None, description="Absent for a planned wait.")


class ProcessingStage(StrEnum):
    UPLOADING = "uploading"  # the media is being sent to the platform
    PROCESSING = "processing"  # the platform is processing it (a container, an upload, a video)
    PUBLISHING = "publishing"  # being made public (WhatsApp: messages still being sent)


class PostProgressed(TargetRef):
    """A target on its way (ADR 0018): the stage its platform flow is in while Herald waits for
    the platform. Informational: it never moves a target's state."""

    event_type = "herald.post.progressed.v1"

    stage: ProcessingStage
    detail: str | None = Field(
        default=None, max_length=300, description="The platform's own status, e.g. IN_PROGRESS."
    )
    bytes_sent: int | None = Field(default=None, ge=0, description="Uploading: bytes sent.")
    bytes_total: int | None = Field(default=None, ge=0, description="Uploading: the file size.")
    attempt: int = Field(ge=1)
    reported_at: AwareDatetime


class PostInsightsCollected(TargetRef):
    """A snapshot of a published post's metrics at one age after publishing (1 h, 24 h, ...)."""

    event_type = "herald.post.insights_collected.v1"

    platform_post_id: str | None = None
    published_at: AwareDatetime | None = None
    age_s: int = Field(ge=0, description="How long after publishing the snapshot was taken.")
    collected_at: AwareDatetime
    metrics: dict[str, float | dict[str, float]] = Field(
        description=(
            "The platform's current metric names and values; a breakdown (reactions by type) "
            "is an object of numbers. Consumers de-duplicate on (target_id, age_s)."
        )
    )


class PostInsightsUnavailable(TargetRef):
    """A snapshot the platform will not give (an Instagram story seen by fewer than 5 accounts,
    a deleted post, a metric removed): no figures for that age, with the platform's reason."""

    event_type = "herald.post.insights_unavailable.v1"

    platform_post_id: str | None = None
    published_at: AwareDatetime | None = None
    age_s: int = Field(ge=0, description="The age the snapshot was asked for.")
    failed_at: AwareDatetime
    error: FailureDetail = Field(description="The platform's code and message, as it gave them.")


class PostInsightsRequested(TargetRef):
    """A business asked for a snapshot now (`POST /v1/posts/{id}/analytics/refresh`): the
    target's publisher takes one at the post's current age, within the platform's limits, and
    tells it as the usual insights_collected (or insights_unavailable) event with that age."""

    event_type = "herald.post.insights_requested.v1"

    requested_at: AwareDatetime


class Violation(Model):
    path: str = Field(description="Where in the input, e.g. targets[0].options.privacy_level.")
    message: str
    code: str = Field(examples=["too_long", "required", "not_allowed"])


class PostRejected(Event):
    """A submission that was not accepted, with every reason; the input itself is kept."""

    event_type = "herald.post.rejected.v1"
    subject_field = "idempotency_key"

    business_id: str | None = None
    idempotency_key: str | None = None
    source_event_id: str | None = None
    violations: list[Violation] = Field(min_length=1)
    rejected_at: AwareDatetime


class IntegrationStatus(StrEnum):
    ACTIVE = "active"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    DISCONNECTED = "disconnected"


class IntegrationEvent(Event):
    subject_field = "integration_id"

    integration_id: str
    business_id: str
    platform: Platform
    account_id: str = Field(description="The platform's id of the account (Page, IG user, ...).")
    status: IntegrationStatus
    occurred_at: AwareDatetime
    reason: str | None = None
    expires_at: AwareDatetime | None = None
    reconnect_by: AwareDatetime | None = Field(
        default=None,
        description="When the person must reconnect unless Herald renews the connection first "
        "(null: no known end).",
    )


class IntegrationConnected(IntegrationEvent):
    event_type = "herald.integration.connected.v1"

    account_name: str | None = None
    scopes: list[str] = Field(default_factory=list)


class IntegrationRefreshed(IntegrationEvent):
    event_type = "herald.integration.refreshed.v1"


class IntegrationExpired(IntegrationEvent):
    event_type = "herald.integration.expired.v1"


class IntegrationDisconnected(IntegrationEvent):
    event_type = "herald.integration.disconnected.v1"


class AccountInsightsEvent(Event):
    """One UTC day of a connected account's figures, told by its publisher's account job once the
    day is over (ADR 0020). Keyed by integration id; consumers de-duplicate on
    (integration_id, day)."""

    subject_field = "integration_id"

    integration_id: str
    business_id: str
    platform: Platform
    account_id: str = Field(description="The platform's id of the account (Page, IG user, ...).")
    day: date = Field(description="The UTC day the figures are of.")


class AccountInsightsCollected(AccountInsightsEvent):
    """A Page's insights, an Instagram account's insights or a TikTok creator's counts."""

    event_type = "herald.account.insights_collected.v1"

    collected_at: AwareDatetime
    metrics: dict[str, float] = Field(
        description=(
            "The platform's metric names and values for the day (a total, such as followers, "
            "as the day ended or, where the platform only gives the current count, as "
            "collected); a metric the platform answered nothing for is left out, never 0."
        )
    )


class AccountInsightsUnavailable(AccountInsightsEvent):
    """A day of account figures the platform would not give (the grant was revoked, a scope is
    missing, the account is gone): no figures for that day, with the platform's reason."""

    event_type = "herald.account.insights_unavailable.v1"

    failed_at: AwareDatetime
    error: FailureDetail = Field(description="The platform's code and message, as it gave them.")


class MessageStatusEvent(TargetRef):
    """A WhatsApp delivery status for one recipient of one target."""

    recipient_id: str
    message_id: str = Field(description="The platform's message id (wamid).")
    status_at: AwareDatetime
    pricing_category: str | None = Field(
        default=None,
        description="WhatsApp's pricing category of the message (marketing, utility, "
        "authentication, service), as the status webhook's pricing.category gives it; absent "
        "when it gives none (failed statuses).",
    )


class MessageSent(MessageStatusEvent):
    event_type = "herald.message.sent.v1"


class MessageDelivered(MessageStatusEvent):
    event_type = "herald.message.delivered.v1"


class MessageRead(MessageStatusEvent):
    event_type = "herald.message.read.v1"


class RecipientFlagged(TargetRef):
    """A WhatsApp recipient the platform says cannot or must not be messaged again: the scheduler
    marks the contact (undeliverable, or opted out) so later broadcasts skip it."""

    event_type = "herald.message.recipient_flagged.v1"

    recipient_id: str
    to: str | None = Field(default=None, description="The E.164 number, when known.")
    reason: Literal["undeliverable", "opted_out"]
    error: FailureDetail
    flagged_at: AwareDatetime


class MessageFailed(MessageStatusEvent):
    event_type = "herald.message.failed.v1"

    error: FailureDetail


EVENT_TYPES: dict[str, type[Event]] = {
    cls.event_type: cls
    for cls in (
        PostSubmitted,
        PostRequested,
        PostPublished,
        PostFailed,
        PostRetryScheduled,
        PostProgressed,
        PostRejected,
        PostInsightsCollected,
        PostInsightsUnavailable,
        PostInsightsRequested,
        IntegrationConnected,
        IntegrationRefreshed,
        IntegrationExpired,
        IntegrationDisconnected,
        AccountInsightsCollected,
        AccountInsightsUnavailable,
        MessageSent,
        MessageDelivered,
        MessageRead,
        MessageFailed,
        RecipientFlagged,
    )
}
