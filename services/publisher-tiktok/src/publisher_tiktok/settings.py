"""Settings of publisher-tiktok: variables prefixed `HERALD_PUBLISHER_TIKTOK_`, nested pieces
with `__` (`HERALD_PUBLISHER_TIKTOK_TIKTOK__BASE_URL`, `..._FETCHER__ALLOWED_ORIGINS`).
Shared pieces (Kafka, MongoDB, logging) read their own prefixes."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr, model_validator

from herald.http import HttpClientSettings
from herald.media import FetchSettings
from herald.publishers import InsightsPublisherSettings
from herald.settings import HttpServerSettings, service_config

MIB = 1024 * 1024


class ChunkRules(BaseModel):
    """TikTok's FILE_UPLOAD rules (media transfer guide). The docs say "MB" without saying which;
    the defaults take the stricter reading of each bound, so both readings accept our plans."""

    model_config = {"extra": "forbid"}

    chunk_size_bytes: int = Field(default=10_000_000, description="Preferred chunk size.")
    chunk_min_bytes: int = Field(default=5 * MIB, description="Smaller files go whole.")
    chunk_max_bytes: int = Field(default=64_000_000)
    final_chunk_max_bytes: int = Field(default=128_000_000)
    max_chunks: int = Field(default=1_000, ge=1)
    video_max_bytes: int = Field(default=4 * 1024 * MIB)

    @model_validator(mode="after")
    def _consistent(self) -> ChunkRules:
        if not self.chunk_min_bytes <= self.chunk_size_bytes <= self.chunk_max_bytes:
            msg = "chunk_size_bytes must lie between chunk_min_bytes and chunk_max_bytes"
            raise ValueError(msg)
        if self.final_chunk_max_bytes < 2 * self.chunk_max_bytes - 1:
            msg = "final_chunk_max_bytes must hold a full chunk plus a remainder"
            raise ValueError(msg)
        return self


class RateLimits(BaseModel):
    """TikTok's per-token limits per minute (§4.2, §4.3), kept before calling."""

    model_config = {"extra": "forbid"}

    creator_info_per_minute: int = Field(default=20, ge=1)
    init_per_minute: int = Field(default=6, ge=1)
    status_per_minute: int = Field(default=30, ge=1)
    display_per_minute: int = Field(default=600, ge=1)


class TikTokSettings(BaseModel):
    model_config = {"extra": "forbid"}

    base_url: str = Field(
        default="https://open.tiktokapis.com",
        description="Content Posting and Display API host (tests: the sandbox's path prefix).",
    )
    client_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Signs webhooks (TikTok-Signature). Empty: none accepted.",
    )
    previous_client_secret: SecretStr | None = Field(
        default=None, description="Also accepted while the client secret is being rotated."
    )
    webhook_tolerance_s: int = Field(default=300, ge=1)
    verified_url_prefixes: list[str] = Field(
        default_factory=list,
        description="URL prefixes verified for this app: videos there are pulled, photos must be.",
    )
    photo_url_schemes: list[str] = Field(
        default_factory=lambda: ["https"],
        description="TikTok pulls photos over https only; tests against the sandbox add http.",
    )
    chunks: ChunkRules = Field(default_factory=ChunkRules)
    limits: RateLimits = Field(default_factory=RateLimits)
    chunk_attempts: int = Field(default=3, ge=1, description="Tries of one chunk in one attempt.")
    upload_url_ttl_s: float = Field(default=3_300.0, gt=0, description="Re-init after this.")
    status_poll_s: float = Field(default=10.0, gt=0, description="Between status checks.")
    daily_cap_retry_s: float = Field(
        default=24 * 3600.0, gt=0, description="Deferral after TikTok's daily post cap."
    )
    pending_share_retry_s: float = Field(
        default=3600.0, gt=0, description="Deferral while too many inbox drafts are pending."
    )
    post_id_poll_s: float = Field(default=30.0, gt=0, description="Public id look-ups, apart.")
    post_id_polls: int = Field(default=20, ge=0, description="Look-ups before giving up on an id.")

    def webhook_secrets(self) -> list[str]:
        """The secrets a webhook signature may use: the current one, then the previous one."""
        previous = self.previous_client_secret
        return [self.client_secret.get_secret_value()] + (
            [previous.get_secret_value()] if previous is not None else []
        )


class Settings(InsightsPublisherSettings):
    model_config = service_config("HERALD_PUBLISHER_TIKTOK_")

    http: HttpServerSettings = Field(default_factory=lambda: HttpServerSettings(port=8114))
    database: str = Field(
        default="herald_publisher_tiktok", description="The MongoDB database this service owns."
    )
    tiktok: TikTokSettings = Field(default_factory=TikTokSettings)
    fetcher: FetchSettings = Field(default_factory=FetchSettings)
    auth_webhook_path: str = Field(
        default="/v1/webhooks/tiktok",
        description="auth-service's TikTok webhook, where authorization.removed is forwarded.",
    )
    http_client: HttpClientSettings = Field(
        default_factory=HttpClientSettings, description="Calls to TikTok (uploads included)."
    )

    @model_validator(mode="after")
    def _marks_outlive_the_window(self) -> Settings:
        """A delivery's mark (`tiktok_webhooks`, swept by the retention) must outlive the window
        in which a replay of it is still fresh, or the replay would be acted on again."""
        window = self.tiktok.webhook_tolerance_s
        if self.retention.enabled and self.retention.keep_s <= window:
            msg = (
                f"retention.keep_days ({self.retention.keep_days:g}) must be longer than "
                f"tiktok.webhook_tolerance_s ({window} s): a replayed webhook could arrive after "
                "its mark was swept and be forwarded again"
            )
            raise ValueError(msg)
        return self

    @property
    def auth_webhook_url(self) -> str:
        return self.auth.base_url.rstrip("/") + self.auth_webhook_path
