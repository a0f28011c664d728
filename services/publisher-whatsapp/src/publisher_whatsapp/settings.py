"""Settings of publisher-whatsapp: variables prefixed `HERALD_PUBLISHER_WHATSAPP_`, nested pieces
with `__` (`…_GRAPH__BASE_URL`, `…_PACE__THROUGHPUT_MPS=1000`, `…_WEBHOOK__VERIFY_TOKEN`).

The runtime's pieces come from `PublisherSettings` (Kafka, MongoDB and logging read their shared
prefixes). Pacing and batch sending are explained in docs/adr/0007-whatsapp-batches-and-pace.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, SecretStr

from herald.graph import GraphSettings
from herald.media import FetchSettings
from herald.runtime.settings import PublisherSettings
from herald.runtime.tokens import AuthServiceSettings
from herald.settings import HttpServerSettings, service_config


class PaceSettings(BaseModel):
    """Per phone number: a token bucket at the number's throughput (platform-apis.md §3.5)."""

    model_config = {"extra": "forbid"}

    throughput_mps: float = Field(
        default=80.0, gt=0, le=1000.0, description="Messages per second a number may send."
    )
    numbers: dict[str, Annotated[float, Field(gt=0, le=1000.0)]] = Field(
        default_factory=dict,
        description="Phone number id → its own throughput (upgraded numbers: 1000; coexistence: "
        "20), e.g. '{\"106540352242922\": 1000}'.",
    )
    target_ratio: float = Field(
        default=0.97, gt=0, le=1, description="Share of the throughput the bucket refills at."
    )
    burst_ratio: float = Field(
        default=0.02,
        ge=0,
        le=0.5,
        description="Bucket depth as a share of the throughput (at least one message); target "
        "plus burst stays under the limit in any one-second window.",
    )
    max_wait_s: float = Field(
        default=2.0,
        gt=0,
        description="Longest wait for a token inside a handler; beyond it the rest is deferred.",
    )

    def limit(self, phone_number_id: str) -> float:
        return self.numbers.get(phone_number_id, self.throughput_mps)


class SendSettings(BaseModel):
    """How one batch (one `post.requested.whatsapp`) is sent."""

    model_config = {"extra": "forbid"}

    max_recipients: int = Field(
        default=100, ge=1, le=10_000, description="Larger batches are refused: split them."
    )
    max_in_flight: int = Field(
        default=16, ge=1, le=256, description="Sends under way at once for one batch."
    )
    pair_backoff_s: float = Field(
        default=4.0, gt=0, description="131056: the n-th deferral waits pair_backoff_s ** n."
    )
    pair_max_tries: int = Field(
        default=5, ge=1, description="131056 deferrals of one recipient before it fails."
    )
    retry_backoff_s: list[float] = Field(
        default_factory=lambda: [10.0, 60.0, 600.0],
        min_length=1,
        description="Waits after a recipient's transient failures (5xx, timeouts).",
    )
    max_tries: int = Field(
        default=4, ge=1, description="Tries of one recipient after transient failures."
    )
    throttle_rounds: int = Field(
        default=3, ge=1, description="130429 rounds inside one handling before deferring."
    )
    throttle_pause_s: float = Field(
        default=1.0,
        gt=0,
        description="130429 without a platform hint: the number pauses this long.",
    )
    log_retry_s: float = Field(
        default=60.0,
        ge=0,
        description=(
            "How long writing accepted messages to the message log is tried again while the "
            "store is away (a database restart) before the handling gives up; what is not in "
            "the log is sent again by the next handling. Keep it well under the lease."
        ),
    )


class MediaSettings(BaseModel):
    """Free-form media go by link unless WhatsApp cannot fetch them; then Herald uploads them."""

    model_config = {"extra": "forbid"}

    upload: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="auto: upload media whose origin is in private_origins; always; never.",
    )
    private_origins: list[str] = Field(
        default_factory=list,
        description="Origins Herald can read and WhatsApp cannot (private storage), e.g. "
        "https://media.internal.example.",
    )


class WebhookSettings(BaseModel):
    """The status webhook (security-reliability.md §3.1, §3.3)."""

    model_config = {"extra": "forbid"}

    path: str = Field(default="/webhooks/whatsapp", pattern=r"^/[A-Za-z0-9/_-]*$")
    verify_token: SecretStr = Field(
        default=SecretStr(""), description="Answers Meta's handshake. Empty: no handshake passes."
    )
    app_secret: SecretStr | None = Field(
        default=None,
        description="Signs deliveries (X-Hub-Signature-256); default: graph.app_secret.",
    )
    previous_app_secret: SecretStr | None = Field(
        default=None, description="Also accepted while the app secret is being rotated."
    )
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    unknown_message_grace_s: float = Field(
        default=600.0,
        ge=0,
        description="A status for a message id not yet stored is refused (Meta redelivers) "
        "while younger than this; older ones are dropped.",
    )


class Settings(PublisherSettings):
    model_config = service_config("HERALD_PUBLISHER_WHATSAPP_")

    http: HttpServerSettings = Field(default_factory=lambda: HttpServerSettings(port=8113))
    database: str = Field(
        default="herald_publisher_whatsapp", description="The MongoDB database this service owns."
    )
    graph: GraphSettings = Field(default_factory=GraphSettings)
    auth: AuthServiceSettings = Field(default_factory=AuthServiceSettings)
    fetcher: FetchSettings = Field(default_factory=FetchSettings)
    pace: PaceSettings = Field(default_factory=PaceSettings)
    send: SendSettings = Field(default_factory=SendSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)

    def webhook_secrets(self) -> list[str]:
        """The secrets a delivery may be signed with, current first; empty: refuse all."""
        current = self.webhook.app_secret or self.graph.app_secret
        found = [s.get_secret_value() for s in (current, self.webhook.previous_app_secret) if s]
        return [secret for secret in found if secret]
