"""Settings every publisher has; a platform's settings class extends this with its own prefix."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings

from herald.policy import RetryPolicy
from herald.retention import RetentionSettings
from herald.runtime.tokens import AuthServiceSettings
from herald.settings import HttpServerSettings, KafkaSettings, LogSettings, MongoSettings
from herald.topics import DELAY_TIERS


class RetrySettings(BaseModel):
    model_config = {"extra": "forbid"}

    max_attempts: int = Field(default=4, ge=1, le=20)
    backoff_s: list[float] = Field(default_factory=lambda: [10.0, 60.0, 600.0])
    jitter: float = Field(default=0.2, ge=0, lt=1)
    default_throttle_s: float = Field(default=60.0, gt=0)
    max_deferral_s: float = Field(default=48 * 3600.0, gt=0)

    @model_validator(mode="after")
    def _enough_backoffs(self) -> RetrySettings:
        if len(self.backoff_s) < self.max_attempts - 1:
            needed = self.max_attempts - 1
            msg = f"backoff_s needs {needed} delays for max_attempts={self.max_attempts}"
            raise ValueError(msg)
        return self

    def policy(self, tiers: Mapping[str, int] = DELAY_TIERS) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.max_attempts,
            backoff_s=tuple(self.backoff_s),
            jitter=self.jitter,
            default_throttle_s=self.default_throttle_s,
            max_deferral_s=self.max_deferral_s,
            tiers=dict(tiers),
        )


class PublisherSettings(BaseSettings):
    """Subclasses set `model_config = service_config("HERALD_PUBLISHER_<PLATFORM>_")`."""

    http: HttpServerSettings
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    mongo: MongoSettings = Field(default_factory=MongoSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    database: str
    retry: RetrySettings = Field(default_factory=RetrySettings)
    auth: AuthServiceSettings = Field(
        default_factory=AuthServiceSettings,
        description="auth-service, the source of the platform tokens (`…_AUTH__BASE_URL`).",
    )
    concurrency: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Consumers of the request topic in this process (each owns some partitions).",
    )
    settle_behind: bool = Field(
        default=True,
        description=(
            "Write a request's outcome, emit its results and commit it while the next request "
            "of its partition starts (offsets still commit in order)."
        ),
    )
    lease_s: float = Field(default=300.0, gt=0, description="How long a target's lease lasts.")
    busy_retry_s: float = Field(default=10.0, gt=0)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    topic_prefix: str = Field(
        default="", pattern=r"^[a-zA-Z0-9._-]*$", description="Prefix of every topic and group."
    )

    @model_validator(mode="after")
    def _ledger_outlives_deferrals(self) -> PublisherSettings:
        # A deleted ledger entry forgets that its target was published: it must outlive every
        # wait a request can still come back from (and the request topics' retention, ADR 0004).
        if self.retention.enabled and self.retention.keep_s <= self.retry.max_deferral_s:
            msg = (
                f"retention.keep_days ({self.retention.keep_days:g}) must be longer than "
                f"retry.max_deferral_s ({self.retry.max_deferral_s:g} s): a request deferred "
                "that long would find its ledger entry deleted and publish again"
            )
            raise ValueError(msg)
        return self
