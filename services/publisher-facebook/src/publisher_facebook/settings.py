"""Settings of publisher-facebook: environment variables prefixed `HERALD_PUBLISHER_FACEBOOK_`.

`GraphPublisherSettings` (`herald.publishers`) brings the runtime's pieces (Kafka, MongoDB and
logging read their shared prefixes; auth-service is `…_AUTH__BASE_URL`, `…_AUTH__SERVICE_TOKEN`),
Graph (`…_GRAPH__BASE_URL`, `…_GRAPH__APP_SECRET`) and insights collection
(`…_INSIGHTS__AGES_S='[3600, 86400, 604800]'`); this service adds the flow's timings.
"""

from __future__ import annotations

from pydantic import Field

from herald.publishers import GraphPublisherSettings
from herald.settings import HttpServerSettings, service_config


class Settings(GraphPublisherSettings):
    model_config = service_config("HERALD_PUBLISHER_FACEBOOK_")

    http: HttpServerSettings = Field(default_factory=lambda: HttpServerSettings(port=8111))
    database: str = Field(
        default="herald_publisher_facebook", description="The MongoDB database this service owns."
    )
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
