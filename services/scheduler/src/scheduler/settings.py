"""Settings of scheduler.

Variables are prefixed `HERALD_SCHEDULER_` (nested pieces with `__`, e.g.
`HERALD_SCHEDULER_DISPATCH__POLL_INTERVAL_S`); shared pieces (Kafka, MongoDB, logging) come from
herald.settings and read their own prefixes. `ENVIRONMENT` is `development` or `production`,
as auth-service's: production refuses a missing token for auth-service and the development-only
settings (`scheduler.environment` says which; the service will not start).
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import replace
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings

from herald.rules import DEFAULT_LIMITS, Limits
from herald.settings import (
    HttpServerSettings,
    KafkaSettings,
    LogSettings,
    MongoSettings,
    service_config,
)
from scheduler.webhooks.settings import WebhookSettings

PREFIX = "HERALD_SCHEDULER_"


class DispatchSettings(BaseModel):
    model_config = {"extra": "forbid"}

    poll_interval_s: float = Field(
        default=0.25, gt=0, le=60, description="Upper bound on how long the dispatcher sleeps."
    )
    lookahead_s: float = Field(
        default=300.0,
        ge=0,
        description="Targets due this far ahead are held in memory (claimed 5 s before due).",
    )
    batch_size: int = Field(default=1000, ge=1, le=20_000)
    scan_limit: int = Field(default=10_000, ge=1, description="Queue entries read per scan.")
    claim_lease_s: float = Field(
        default=30.0, gt=0, description="After this, another replica may take a claim over."
    )
    overdue_after_s: float = Field(
        default=5.0, gt=0, description="A dispatch later than this past due counts as overdue."
    )
    stuck_after_s: float = Field(
        default=30.0, gt=0, description="Readiness fails when the loop is this long without a turn."
    )
    enabled: bool = Field(default=True, description="Off: serve the API and consumers only.")


class AuthServiceSettings(BaseModel):
    model_config = {"extra": "forbid"}

    base_url: str = Field(default="http://127.0.0.1:8101")
    service_token: SecretStr = Field(
        default=SecretStr(""), description="This service's token for auth-service's /internal."
    )
    timeout_s: float = Field(default=5.0, gt=0)
    key_cache_s: float = Field(
        default=0.5,
        ge=0,
        le=1.0,
        description=(
            "How long auth-service's answer about an API key (introspection, or a look-up by id "
            "for a signed post.submitted) is reused: a revoked key is refused at most this long "
            "after its revocation, so at most 1 s (ADR 0014)."
        ),
    )
    integration_cache_s: float = Field(
        default=10.0,
        ge=0,
        description=(
            "How long auth-service's answer about an integration is reused for submissions; "
            "an integration.events message about it ends the reuse at once on the replica "
            "that consumes it."
        ),
    )


class IngestSettings(BaseModel):
    """`post.submitted` from other systems: how fresh a producer's signature must be."""

    model_config = {"extra": "forbid"}

    signature_max_age_s: float = Field(
        default=86_400.0,
        gt=0,
        description=(
            "A signed post.submitted older than this (by its signature's t) is rejected: a "
            "reader of the topic can replay a signed message only this long."
        ),
    )
    signature_max_ahead_s: float = Field(
        default=300.0, ge=0, description="How far ahead of this clock a signature's t may be."
    )


class SchedulerRetentionSettings(BaseModel):
    """What the scheduler's sweep deletes, and when (ADR 0006)."""

    model_config = {"extra": "forbid"}

    enabled: bool = True
    keep_days: float = Field(
        default=30.0,
        ge=1,
        description=(
            "Age after which dispatch bookkeeping (claims, dispatch facts) and stored rejected "
            "submissions are deleted."
        ),
    )
    history_keep_days: float = Field(
        default=365.0,
        ge=1,
        description=(
            "Age after which a post's event-by-event history is deleted; the post and its "
            "targets (their final state) are kept."
        ),
    )
    every_s: float = Field(default=3_600.0, gt=0, description="How often the sweep runs.")


class CampaignSettings(BaseModel):
    model_config = {"extra": "forbid"}

    interval_s: float = Field(default=300.0, gt=0, description="Seconds between campaign passes.")
    horizon_s: float = Field(
        default=7 * 86_400.0, gt=0, description="How far ahead posts of recurring campaigns exist."
    )
    grace_s: float = Field(
        default=3_600.0, ge=0, description="Occurrences missed by more than this are skipped."
    )
    enabled: bool = True


class BroadcastSettings(BaseModel):
    model_config = {"extra": "forbid"}

    batch_size: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Recipients per post.requested.whatsapp of a broadcast (N); at most the "
        "publisher's send.max_recipients.",
    )
    poll_interval_s: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often broadcasts due for expansion are looked for.",
    )
    enabled: bool = Field(default=True, description="Off: this replica expands no broadcasts.")


class AudienceSettings(BaseModel):
    model_config = {"extra": "forbid"}

    import_max_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="Largest import body accepted."
    )
    import_max_rows: int = Field(default=100_000, ge=1, description="Most rows in one import.")
    import_timeout_s: float = Field(
        default=120.0, gt=0, description="How long an import's body may take to arrive."
    )


class ContentRuleSettings(BaseModel):
    """Where submissions may be looser than a platform's own rules (herald.rules): for the
    sandbox of tests and the demo, which serves media over http only."""

    model_config = {"extra": "forbid"}

    tiktok_photo_url_schemes: list[str] = Field(
        default_factory=lambda: ["https"],
        description="TikTok pulls photos over https only; the sandbox serves http. Keep it equal "
        "to publisher-tiktok's TIKTOK__PHOTO_URL_SCHEMES.",
    )

    def limits(self) -> Limits:
        schemes = tuple(self.tiktok_photo_url_schemes)
        return replace(
            DEFAULT_LIMITS, tiktok=replace(DEFAULT_LIMITS.tiktok, photo_url_schemes=schemes)
        )


def default_instance() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class AnalyticsRefreshSettings(BaseModel):
    """`POST /v1/posts/{id}/analytics/refresh` (scheduler.analytics.refresh)."""

    model_config = {"extra": "forbid"}

    interval_s: float = Field(
        default=300.0,
        gt=0,
        le=86_400,
        description="How soon the same post may be refreshed again (429 with Retry-After before).",
    )


class Settings(BaseSettings):
    model_config = service_config(PREFIX)

    http: HttpServerSettings = Field(default_factory=lambda: HttpServerSettings(port=8102))
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    mongo: MongoSettings = Field(default_factory=MongoSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    database: str = Field(
        default="herald_scheduler", description="The MongoDB database this service owns."
    )
    environment: Literal["development", "production"] = Field(
        default="development",
        description="production: refuses to start without AUTH__SERVICE_TOKEN, with the public "
        "development webhook-secret key or with WEBHOOKS__ALLOW_LOOPBACK (scheduler.environment).",
    )
    topic_prefix: str = Field(
        default="", pattern=r"^[a-zA-Z0-9._-]*$", description="Prefix of every topic and group."
    )
    instance_id: str = Field(
        default_factory=default_instance, description="Names this replica in claims and logs."
    )
    dispatch: DispatchSettings = Field(default_factory=DispatchSettings)
    auth: AuthServiceSettings = Field(default_factory=AuthServiceSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    campaigns: CampaignSettings = Field(default_factory=CampaignSettings)
    rules: ContentRuleSettings = Field(default_factory=ContentRuleSettings)
    broadcasts: BroadcastSettings = Field(default_factory=BroadcastSettings)
    audiences: AudienceSettings = Field(default_factory=AudienceSettings)
    retention: SchedulerRetentionSettings = Field(default_factory=SchedulerRetentionSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    analytics_refresh: AnalyticsRefreshSettings = Field(default_factory=AnalyticsRefreshSettings)
    metrics_refresh_s: float = Field(
        default=30.0, gt=0, description="How often the targets-by-state gauge is recomputed."
    )
    results_consumers: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Kafka consumers of post.results in this replica (ADR 0026): each reads "
        "its share of the partitions, one record at a time, so one post's results stay in order.",
    )
