"""Settings of auth-service.

Variables are prefixed `HERALD_AUTH_` (nested with `__`, e.g. `HERALD_AUTH_VAULT__PRIMARY_KID`);
shared pieces (Kafka, MongoDB, logging) come from herald.settings and read their own prefixes.
Secrets are `SecretStr`. Outside `development`, `secret_problems` names every secret that is
missing, short or a placeholder, and the service refuses to start (see `app.create_app`).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings

from herald.settings import (
    HttpServerSettings,
    KafkaSettings,
    LogSettings,
    MongoSettings,
    service_config,
)

PREFIX = "HERALD_AUTH_"
# A key for local development only: 32 bytes anyone can read here. Refused outside development.
DEV_VAULT_KEY = base64.b64encode(b"herald-development-vault-key-32b").decode()
# Words that mark a value someone meant to replace; as whole words, so random text rarely hits.
_PLACEHOLDER = re.compile(
    r"(?<![a-z0-9])(change|changeme|placeholder|example|sandbox|dev|development|test|secret|"
    r"password|xxx+|todo|dummy|default)(?![a-z0-9])",
    re.IGNORECASE,
)
MIN_SECRET_CHARS = 32
# Webhook delivery marks are kept a day (handlers/maintenance.py); a freshness window must end
# well before its marks go, or a replay could arrive after its mark and still be fresh.
WEBHOOK_WINDOW_MAX_S = 43_200


class _Section(BaseModel):
    model_config = {"extra": "forbid"}


class VaultSettings(_Section):
    keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Keyring: key id -> base64 of a 32-byte AES-256 key. Old keys keep decrypting.",
    )
    primary_kid: str | None = Field(default=None, description="The key id new records use.")


class HostSettings(_Section):
    """Base URLs of the platform hosts. Production: the real hosts. Tests and `make up`: the
    sandbox, which serves each host under a path prefix (`sandbox_url` fills every host)."""

    sandbox_url: str | None = Field(
        default=None, description="If set, every host below defaults to `<sandbox_url>/<host>`."
    )
    graph_facebook: str = "https://graph.facebook.com"
    www_facebook: str = "https://www.facebook.com"
    graph_instagram: str = "https://graph.instagram.com"
    api_instagram: str = "https://api.instagram.com"
    www_instagram: str = "https://www.instagram.com"
    open_tiktokapis: str = "https://open.tiktokapis.com"
    www_tiktok: str = "https://www.tiktok.com"

    @model_validator(mode="after")
    def _fill_from_sandbox(self) -> HostSettings:
        if self.sandbox_url:
            base = self.sandbox_url.rstrip("/")
            for name in type(self).model_fields:
                if name != "sandbox_url" and name not in self.model_fields_set:
                    host = name.replace("_", ".") + ".com"  # graph_facebook: graph.facebook.com
                    setattr(self, name, f"{base}/{host}")
        return self


class MetaAppSettings(_Section):
    """The Meta app behind Facebook Login, Graph calls and WhatsApp Embedded Signup."""

    app_id: str = "100000000000001"
    app_secret: SecretStr = SecretStr("sandbox-meta-app-secret")
    graph_version: str = "v23.0"
    facebook_scopes: list[str] = Field(
        default_factory=lambda: [
            "pages_show_list",
            "pages_manage_posts",
            "pages_read_engagement",
            "read_insights",
        ]
    )
    instagram_scopes: list[str] = Field(
        default_factory=lambda: [
            "pages_show_list",
            "pages_read_engagement",
            "instagram_basic",
            "instagram_content_publish",
            "instagram_manage_insights",
        ]
    )
    whatsapp_scopes: list[str] = Field(
        default_factory=lambda: ["whatsapp_business_management", "whatsapp_business_messaging"]
    )
    whatsapp_config_id: str = Field(
        default="sandbox-embedded-signup",
        description="Facebook Login for Business configuration of WhatsApp Embedded Signup.",
    )
    pkce: bool = Field(default=False, description="Meta's PKCE flow is still marked testing.")
    signed_request_tolerance_s: int = Field(
        default=3_600,
        ge=1,
        le=WEBHOOK_WINDOW_MAX_S,
        description="A deauthorize or data-deletion signed_request whose issued_at is further "
        "from now is refused; a replay within it is refused by its delivery mark.",
    )


class InstagramAppSettings(_Section):
    """The Instagram app behind Business Login for Instagram."""

    app_id: str = "200000000000002"
    app_secret: SecretStr = SecretStr("sandbox-instagram-app-secret")
    scopes: list[str] = Field(
        default_factory=lambda: [
            "instagram_business_basic",
            "instagram_business_content_publish",
            "instagram_business_manage_insights",
        ]
    )


class TikTokAppSettings(_Section):
    client_key: str = "sbawsandboxclientkey"
    client_secret: SecretStr = SecretStr("sandbox-tiktok-client-secret")
    scopes: list[str] = Field(
        default_factory=lambda: [
            "user.info.basic",
            "user.info.profile",
            "user.info.stats",
            "video.list",
            "video.upload",
            "video.publish",
        ]
    )
    pkce: bool = True
    previous_client_secret: SecretStr | None = Field(
        default=None,
        description="Also accepted on webhooks while the client secret is being rotated "
        "(publisher-tiktok forwards deliveries signed by either).",
    )
    webhook_tolerance_s: int = Field(default=300, ge=1, le=WEBHOOK_WINDOW_MAX_S)

    def webhook_secrets(self) -> tuple[str, ...]:
        """The secrets a webhook signature may use: the current one, then the previous one."""
        previous = self.previous_client_secret
        current = self.client_secret.get_secret_value()
        return (current,) if previous is None else (current, previous.get_secret_value())


class OAuthSettings(_Section):
    state_ttl_s: int = Field(default=600, ge=60, le=3600)
    completion_url: str | None = Field(
        default=None,
        description="Where the browser goes after a callback (with ?status=...); else a page.",
    )
    http_timeout_s: float = Field(default=10.0, gt=0)


class RefreshSettings(_Section):
    enabled: bool = Field(default=True, description="Run the background refresh loop.")
    interval_s: float = Field(default=60.0, gt=0)
    margin_s: int = Field(default=900, ge=0, description="Short-lived tokens (TikTok access).")
    long_lived_margin_s: int = Field(
        default=7 * 86_400, ge=0, description="60-day tokens (Facebook user, Instagram login)."
    )
    check_interval_s: int = Field(
        default=86_400, ge=60, description="How often Page and system-user tokens are checked."
    )
    lease_s: float = Field(default=30.0, gt=0)
    coalesce_s: float = Field(
        default=10.0,
        ge=0,
        description="A forced refresh this soon after the last one shares its result.",
    )
    wait_s: float = Field(default=20.0, gt=0, description="How long a caller waits for a lock.")
    retry_after_s: int = Field(default=300, ge=1, description="After a network failure.")
    expiring_window_s: int = Field(
        default=7 * 86_400, ge=0, description="`expiring` when reauthorization is this close."
    )
    batch: int = Field(default=200, ge=1)


class EventsSettings(_Section):
    outbox_interval_s: float = Field(
        default=10.0, gt=0, description="How often the outbox loop sends events still unsent."
    )
    outbox_min_age_s: float = Field(
        default=30.0,
        gt=0,
        description="An event is sent again once it has waited this long in the outbox.",
    )


class Settings(BaseSettings):
    model_config = service_config(PREFIX)

    http: HttpServerSettings = Field(default_factory=lambda: HttpServerSettings(port=8101))
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    mongo: MongoSettings = Field(default_factory=MongoSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    database: str = Field(
        default="herald_auth", description="The MongoDB database this service owns."
    )
    environment: Literal["development", "production"] = "development"
    topic_prefix: str = Field(
        default="", pattern=r"^[a-zA-Z0-9._-]*$", description="Prefix of every topic it produces."
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8101",
        description="How browsers reach this service; OAuth redirect URIs start with it.",
    )
    vault: VaultSettings = Field(default_factory=VaultSettings)
    api_key_pepper: SecretStr = SecretStr("development-api-key-pepper-not-for-production")
    service_tokens: dict[str, SecretStr] = Field(
        default_factory=dict, description="JSON {service_name: token} of callers of /internal."
    )
    admin_token: SecretStr | None = Field(default=None, description="Bearer for /v1/admin.")
    hosts: HostSettings = Field(default_factory=HostSettings)
    meta: MetaAppSettings = Field(default_factory=MetaAppSettings)
    instagram: InstagramAppSettings = Field(default_factory=InstagramAppSettings)
    tiktok: TikTokAppSettings = Field(default_factory=TikTokAppSettings)
    oauth: OAuthSettings = Field(default_factory=OAuthSettings)
    refresh: RefreshSettings = Field(default_factory=RefreshSettings)
    events: EventsSettings = Field(default_factory=EventsSettings)

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


def decode_key(value: str) -> bytes | None:
    """The 32 raw bytes of a base64 vault key, or None when it is not one."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def _weak(value: str, *, min_chars: int = MIN_SECRET_CHARS) -> str | None:
    if not value:
        return "is missing"
    if len(value) < min_chars:
        return f"is shorter than {min_chars} characters"
    if _PLACEHOLDER.search(value) or len(set(value)) < 8:
        return "looks like a placeholder"
    return None


def _vault_problems(vault: VaultSettings) -> list[str]:
    name = f"{PREFIX}VAULT__KEYS"
    if not vault.keys:
        return [f"{name}: is missing (a JSON object of key id -> base64 32-byte key)"]
    problems = []
    for kid, secret in vault.keys.items():
        raw = decode_key(secret.get_secret_value())
        if raw is None:
            problems.append(f"{name}[{kid}]: is not base64 of exactly 32 bytes")
        elif secret.get_secret_value() == DEV_VAULT_KEY or len(set(raw)) < 16:
            problems.append(f"{name}[{kid}]: looks like a placeholder (low entropy or dev key)")
    if vault.primary_kid is None or vault.primary_kid not in vault.keys:
        problems.append(f"{PREFIX}VAULT__PRIMARY_KID: must name one of the keys")
    return problems


def keyring_problems(vault: VaultSettings) -> list[str]:
    """Problems that stop the vault in any environment (a configured key that is malformed)."""
    problems = []
    for kid, secret in vault.keys.items():
        if decode_key(secret.get_secret_value()) is None:
            problems.append(f"{PREFIX}VAULT__KEYS[{kid}]: is not base64 of exactly 32 bytes")
    if vault.keys and vault.primary_kid not in vault.keys:
        problems.append(f"{PREFIX}VAULT__PRIMARY_KID: must name one of the keys")
    return problems


def secret_problems(settings: Settings) -> list[str]:
    """Every secret that is unfit for production, named by its environment variable."""
    problems = [] if settings.environment == "development" else _vault_problems(settings.vault)
    problems += keyring_problems(settings.vault) if settings.environment == "development" else []
    if settings.environment == "development":
        return problems
    checks = {
        f"{PREFIX}API_KEY_PEPPER": settings.api_key_pepper.get_secret_value(),
        f"{PREFIX}ADMIN_TOKEN": (
            settings.admin_token.get_secret_value() if settings.admin_token else ""
        ),
        f"{PREFIX}META__APP_SECRET": settings.meta.app_secret.get_secret_value(),
        f"{PREFIX}INSTAGRAM__APP_SECRET": settings.instagram.app_secret.get_secret_value(),
        f"{PREFIX}TIKTOK__CLIENT_SECRET": settings.tiktok.client_secret.get_secret_value(),
    }
    if settings.tiktok.previous_client_secret is not None:
        previous = settings.tiktok.previous_client_secret.get_secret_value()
        checks[f"{PREFIX}TIKTOK__PREVIOUS_CLIENT_SECRET"] = previous
    for name, value in checks.items():
        reason = _weak(value, min_chars=32 if "APP_SECRET" not in name else 16)
        if reason:
            problems.append(f"{name}: {reason}")
    if not settings.service_tokens:
        problems.append(f"{PREFIX}SERVICE_TOKENS: is missing (a JSON object of name -> token)")
    for service, token in settings.service_tokens.items():
        reason = _weak(token.get_secret_value())
        if reason:
            problems.append(f"{PREFIX}SERVICE_TOKENS[{service}]: {reason}")
    return problems
