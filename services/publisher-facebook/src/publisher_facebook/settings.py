"""Settings of publisher-facebook: environment variables prefixed `HERALD_PUBLISHER_FACEBOOK_`.

The runtime's pieces come from `PublisherSettings` (Kafka, MongoDB and logging read their shared
prefixes); this service adds Graph (`…_GRAPH__BASE_URL`, `…_GRAPH__APP_SECRET`), auth-service
(`…_AUTH__BASE_URL`, `…_AUTH__SERVICE_TOKEN`), the flow's timings and insights collection
(`…_INSIGHTS__AGES_S='[3600, 86400, 604800]'`).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from herald.graph import GraphSettings
from herald.insights import InsightsSettings, require_ledger_beyond
from herald.runtime.settings import PublisherSettings
from herald.runtime.tokens import AuthServiceSettings
from herald.settings import HttpServerSettings, service_config


class Settings(PublisherSettings):
    model_config = service_config("HERALD_PUBLISHER_FACEBOOK_")

    http: HttpServerSettings = Field(default_factory=lambda: HttpServerSettings(port=8111))
    database: str = Field(
        default="herald_publisher_facebook", description="The MongoDB database this service owns."
    )
    graph: GraphSettings = Field(default_factory=GraphSettings)
    auth: AuthServiceSettings = Field(default_factory=AuthServiceSettings)
    insights: InsightsSettings = Field(default_factory=InsightsSettings)
    video_poll_s: float = Field(
        default=10.0, gt=0, description="How often a processing video's status is read."
    )
    reconcile_skew_s: float = Field(
        default=120.0,
        ge=0,
        description="Clock difference allowed when matching our post on the Page after an "
        "ambiguous call.",
    )
    reconcile_posts: int = Field(
        default=25, ge=1, le=100, description="Recent posts read to find ours."
    )

    @model_validator(mode="after")
    def _ledger_outlives_insights(self) -> Settings:
        require_ledger_beyond(self.retention, self.insights)
        return self
