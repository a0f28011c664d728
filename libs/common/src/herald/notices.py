"""What a business is told: the events on `business.events` and in its webhooks (ADR 0021).

`post.results` and `integration.events` are Herald's own wiring between its services; a business
(or a system of its own) follows its posts through these notices instead. Every notice about a
post carries the correlation a producer needs to match it to what it sent: the post id, the
idempotency key, the producer's `external_ref`, the CloudEvents id of the `post.submitted` that
created it, and for a target its index and integration. `webhook_type` is the Standard Webhooks
`type` of the same notice (`target.published`); the webhook's `data` is the event body.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from herald.content import Model
from herald.events import Event, FailureDetail, IntegrationDisconnected, RetryReason
from herald.topics import Platform


class Notice(Event):
    """A notice for one business; `webhook_type` names it in webhooks."""

    webhook_type: ClassVar[str]

    business_id: str
    occurred_at: AwareDatetime


class PostNotice(Notice):
    """The correlation of a post, carried by every notice about it."""

    subject_field = "post_id"

    post_id: str
    idempotency_key: str = Field(description="The key the post was submitted with.")
    external_ref: str | None = Field(
        default=None, description="The producer's own id of the submission, as it sent it."
    )
    source_event_id: str | None = Field(
        default=None,
        description="The CloudEvents id of the `post.submitted` that created the post; null for "
        "a post submitted through the REST API or made by a campaign.",
    )
    campaign_id: str | None = None


class TargetNotice(PostNotice):
    """A notice about one target: which of the post's targets (its index) on which account."""

    subject_field = "target_id"

    target_id: str
    target_index: int = Field(ge=0, description="The target's position in the submission.")
    integration_id: str
    platform: Platform


class AcceptedTarget(Model):
    target_id: str
    target_index: int
    integration_id: str
    platform: Platform


class PostAccepted(PostNotice):
    """A submission became a post (stored and scheduled, or saved as a draft)."""

    event_type = "herald.post.accepted.v1"
    webhook_type = "post.accepted"

    status: Literal["scheduled", "draft"]
    due_at: AwareDatetime
    source: str = Field(description="api, event or campaign")
    targets: list[AcceptedTarget]


class TargetPublished(TargetNotice):
    event_type = "herald.target.published.v1"
    webhook_type = "target.published"

    attempt: int = Field(ge=1)
    platform_post_id: str | None = None
    permalink: str | None = None
    published_at: AwareDatetime


class TargetFailed(TargetNotice):
    """A target failed for good: nothing more happens unless someone retries it."""

    event_type = "herald.target.failed.v1"
    webhook_type = "target.failed"

    attempt: int = Field(ge=0)
    error: FailureDetail = Field(description="category, code, message and remediation.")


class TargetRetrying(TargetNotice):
    """A target's attempt did not succeed (or the platform asked to wait); it runs again."""

    event_type = "herald.target.retrying.v1"
    webhook_type = "target.retrying"

    next_attempt: int = Field(ge=1)
    next_attempt_at: AwareDatetime
    reason: RetryReason
    error: FailureDetail | None = None


class FinishedTarget(Model):
    target_id: str
    target_index: int
    integration_id: str
    platform: Platform
    state: str


class PostFinished(PostNotice):
    """Every target of the post has ended (published, failed or cancelled)."""

    event_type = "herald.post.finished.v1"
    webhook_type = "post.finished"

    status: Literal["published", "partially_published", "failed", "cancelled"]
    targets: list[FinishedTarget]


class BroadcastProgressed(TargetNotice):
    """A batch of a WhatsApp broadcast ended; the target is the broadcast."""

    event_type = "herald.broadcast.progressed.v1"
    webhook_type = "broadcast.progressed"

    batches: int = Field(ge=0, description="Batches of the broadcast.")
    batches_published: int = Field(ge=0)
    batches_failed: int = Field(ge=0)


class BroadcastCompleted(BroadcastProgressed):
    """Every batch of a WhatsApp broadcast ended."""

    event_type = "herald.broadcast.completed.v1"
    webhook_type = "broadcast.completed"


class IntegrationNotice(Notice):
    subject_field = "integration_id"

    integration_id: str
    platform: Platform
    account_id: str


class IntegrationExpiring(IntegrationNotice):
    """A connection ends soon unless the person reconnects it (the platform allows no
    automatic renewal past `reconnect_by`)."""

    event_type = "herald.integration.expiring.v1"
    webhook_type = "integration.expiring"

    reconnect_by: AwareDatetime
    days_left: int = Field(ge=0)


class IntegrationNeedsReconnect(IntegrationNotice):
    """A connection stopped working (revoked, expired, refused); posts to it fail until the
    person reconnects the account."""

    event_type = "herald.integration.needs_reconnect.v1"
    webhook_type = "integration.needs_reconnect"

    reason: str | None = None


class WebhookEndpointDisabled(Notice):
    """An endpoint failed every delivery for longer than allowed and was disabled."""

    event_type = "herald.webhook.endpoint_disabled.v1"
    webhook_type = "webhook.endpoint_disabled"
    subject_field = "endpoint_id"

    endpoint_id: str
    url: str
    failing_since: AwareDatetime
    reason: str


class WebhookPing(Notice):
    """Sent to one endpoint on request, to test it; never on Kafka."""

    event_type = "herald.webhook.ping.v1"
    webhook_type = "ping"
    subject_field = "endpoint_id"

    endpoint_id: str


NOTICES: tuple[type[Notice], ...] = (
    PostAccepted,
    TargetPublished,
    TargetFailed,
    TargetRetrying,
    PostFinished,
    BroadcastProgressed,
    BroadcastCompleted,
    IntegrationExpiring,
    IntegrationNeedsReconnect,
    WebhookEndpointDisabled,
)
# The Kafka events of `business.events` by CloudEvents type; an integration that was
# disconnected is told with auth-service's own `integration.disconnected` event.
NOTICE_TYPES: dict[str, type[Event]] = {cls.event_type: cls for cls in NOTICES}

# Webhook types a business can subscribe to, with the model of their `data`.
_TOLD: tuple[type[Notice], ...] = (*NOTICES, WebhookPing)
WEBHOOK_TYPES: dict[str, type[Event]] = {
    **{cls.webhook_type: cls for cls in _TOLD},
    "integration.disconnected": IntegrationDisconnected,
}


def webhook_type(event: Event) -> str:
    """The webhook `type` of a notice (auth-service's disconnected event included)."""
    if isinstance(event, Notice):
        return event.webhook_type
    if isinstance(event, IntegrationDisconnected):
        return "integration.disconnected"
    msg = f"{event.event_type} is not told to businesses"
    raise ValueError(msg)
