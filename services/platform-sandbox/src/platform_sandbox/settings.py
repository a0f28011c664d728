"""Settings of platform-sandbox: environment variables prefixed `HERALD_SANDBOX_`.

Every limit and lifetime the sandbox imitates lives here, with the value the platform documents
as its default (`../shared/reference/platform-apis.md`). Nested sections read e.g.
`HERALD_SANDBOX_WHATSAPP__THROUGHPUT_MPS=1000`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings

from herald.settings import HttpServerSettings, LogSettings, service_config

DAY = 86_400
MIB = 1024 * 1024


class _Section(BaseModel):
    model_config = {"extra": "forbid"}


class OAuthSettings(_Section):
    auto_approve: bool = Field(
        default=False,
        description="Authorize pages approve at once (tests, demo); otherwise a consent page.",
    )


class MetaSettings(_Section):
    """The Meta app behind Facebook Login, Graph calls and WhatsApp (one app, like Herald's)."""

    app_id: str = "100000000000001"
    app_secret: SecretStr = SecretStr("sandbox-meta-app-secret")
    graph_version: str = Field(default="v23.0", description="For calls without a version.")
    require_appsecret_proof: bool = False
    appsecret_time_tolerance_s: int = 300
    redirect_uris: list[str] = Field(
        default_factory=list, description="Registered redirect URIs; empty accepts any."
    )
    code_ttl_s: int = 600
    short_lived_user_token_s: int = 3_600
    long_lived_user_token_s: int = 5_183_944
    data_access_s: int = 90 * DAY
    embedded_signup_config_ids: list[str] = Field(
        default_factory=lambda: ["sandbox-embedded-signup"],
        description="Login-for-Business config ids whose code exchanges for a business token.",
    )
    app_calls_per_hour: int = Field(
        default=10_000, description="X-App-Usage budget: 200 calls x an assumed 50 daily users."
    )
    pages_calls_per_day: int = Field(default=48_000, description="4800 x 10 engaged users.")
    instagram_calls_per_day: int = Field(default=48_000, description="4800 x 10 impressions.")
    waba_calls_per_hour: int = Field(default=200, description="WhatsApp management API budget.")


class FacebookSettings(_Section):
    video_processing_s: float = 5.0
    photo_max_bytes: int = 10 * MIB
    video_max_bytes: int = 10 * 1024 * MIB
    reject_duplicate_posts: bool = Field(
        default=True, description="The same text twice in a row is error 506, as on Facebook."
    )
    duplicate_window_s: int = DAY
    schedule_min_s: int = 600
    schedule_max_s: int = 30 * DAY


class InstagramSettings(_Section):
    app_id: str = "200000000000002"
    app_secret: SecretStr = SecretStr("sandbox-instagram-app-secret")
    code_ttl_s: int = 3_600
    short_lived_token_s: int = 3_600
    long_lived_token_s: int = 60 * DAY
    refresh_min_age_s: int = DAY
    publish_quota_total: int = 50
    publish_quota_window_s: int = DAY
    container_cap: int = 400
    container_ttl_s: int = DAY
    image_processing_s: float = 0.0
    video_processing_s: float = 15.0
    image_max_bytes: int = 8 * MIB
    image_formats: list[str] = Field(
        default_factory=lambda: ["jpeg"], description="Feed images: JPEG only, per Meta's spec."
    )
    image_min_aspect: float = 0.8
    image_max_aspect: float = 1.91
    video_max_bytes: int = 300 * MIB
    caption_max_chars: int = 2_200
    caption_max_hashtags: int = 30
    caption_max_mentions: int = 20
    carousel_min_items: int = 2
    carousel_max_items: int = 10
    story_min_viewers: int = 5


class WhatsAppSettings(_Section):
    throughput_mps: float = Field(default=80.0, description="Per phone number; 1000 upgraded.")
    pair_interval_s: float = Field(default=6.0, description="Same business and user: 1 per 6 s.")
    pair_burst: int = Field(default=45, description="Messages a pair may send in one burst.")
    service_window_s: int = DAY
    window_error: Literal["webhook", "sync"] = Field(
        default="webhook",
        description="131047 as a failed status webhook (what Cloud API does) or a sync 400.",
    )
    text_max_chars: int = 4_096
    media_ttl_s: int = 30 * DAY
    image_max_bytes: int = 5 * MIB
    video_max_bytes: int = 16 * MIB
    audio_max_bytes: int = 16 * MIB
    document_max_bytes: int = 100 * MIB
    sticker_max_bytes: int = 500 * 1024
    sent_after_s: float = 0.05
    delivered_after_s: float = 0.2
    read_after_s: float = 0.5
    read_receipts: bool = True


class TikTokSettings(_Section):
    client_key: str = "sbawsandboxclientkey"
    client_secret: SecretStr = SecretStr("sandbox-tiktok-client-secret")
    token_profile: Literal["legacy", "rotating"] = Field(
        default="rotating",
        description="legacy: access 24 h, refresh 365 d; rotating: 2 h, 180 d, refresh rotates.",
    )
    redirect_uris: list[str] = Field(default_factory=list)
    code_ttl_s: int = 600
    require_pkce: bool = Field(
        default=True,
        description="Refuse an authorize request without an S256 code_challenge (TikTok "
        "requires PKCE of these apps); off models a web app that TikTok lets skip it.",
    )
    audited: bool = True
    upload_url_ttl_s: int = 3_600
    chunk_min_bytes: int = 5 * MIB
    chunk_max_bytes: int = 64 * MIB
    final_chunk_max_bytes: int = 128 * MIB
    max_chunks: int = 1_000
    video_max_bytes: int = 4 * 1024 * MIB
    video_title_max_chars: int = 2_200
    photo_title_max_chars: int = 90
    photo_description_max_chars: int = 4_000
    photo_max_images: int = 35
    processing_s: float = 2.0
    moderation_s: float = 5.0
    daily_post_cap: int = 15
    pending_inbox_cap: int = 5
    creator_info_per_minute: int = 20
    init_per_minute: int = 6
    status_per_minute: int = 30
    display_per_minute: int = 600
    verified_url_prefixes: list[str] = Field(default_factory=list)


class WebhookSettings(_Section):
    whatsapp_url: str | None = None
    tiktok_url: str | None = None
    auto_deliver: bool = Field(default=True, description="Deliver due webhooks in the background.")
    poll_interval_s: float = 0.05
    timeout_s: float = 5.0
    max_attempts: int = Field(default=5, ge=1, description="Failed deliveries are retried.")
    retry_backoff_s: float = 1.0
    history: int = Field(default=10_000, description="Past deliveries kept for the admin API.")
    duplicate_probability: float = Field(default=0.0, ge=0.0, le=1.0)
    reorder: bool = Field(default=False, description="Deliver each due batch newest first.")


class MediaSettings(_Section):
    fetch_timeout_s: float = 30.0
    fetch_max_bytes: int = 4 * 1024 * MIB
    synthetic_max_bytes: int = 5 * 1024 * MIB


class FaultSettings(_Section):
    hang_s: float = Field(default=30.0, description="How long a 'timeout' fault holds a request.")
    seed: int | None = Field(default=None, description="Seed for probabilities (reproducible).")


class LedgerSettings(_Section):
    marker_header: str = "X-Sandbox-Marker"
    marker_pattern: str = Field(
        default=r"herald-marker:([A-Za-z0-9._:-]+)",
        description="A marker found in posted text when no marker header was sent.",
    )


class Settings(BaseSettings):
    model_config = service_config("HERALD_SANDBOX_")

    http: HttpServerSettings = Field(default_factory=lambda: HttpServerSettings(port=8120))
    log: LogSettings = Field(default_factory=LogSettings)
    public_base_url: str | None = Field(
        default=None, description="Base of URLs the sandbox hands out; default: the request's."
    )
    seed_demo_accounts: bool = True
    gc_freeze_every_s: float = Field(
        default=5.0,
        ge=0,
        description=(
            "Freeze what survived the young collections this often, so a full collection never "
            "stalls the sandbox's stamps (0: leave the collector alone; see steady.py)."
        ),
    )
    oauth: OAuthSettings = Field(default_factory=OAuthSettings)
    meta: MetaSettings = Field(default_factory=MetaSettings)
    facebook: FacebookSettings = Field(default_factory=FacebookSettings)
    instagram: InstagramSettings = Field(default_factory=InstagramSettings)
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    tiktok: TikTokSettings = Field(default_factory=TikTokSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    faults: FaultSettings = Field(default_factory=FaultSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
