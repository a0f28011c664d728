"""Settings of auth-service.

Variables are prefixed `HERALD_AUTH_` (nested with `__`, e.g. `HERALD_AUTH_VAULT__PRIMARY_KID`);
shared pieces (Kafka, MongoDB, logging) come from herald.settings and read their own prefixes.
Secrets are `SecretStr`. Outside `development`, `secret_problems` names every secret that is
missing, short or a placeholder, and the service refuses to start (see `app.create_app`). In
`development` too, the public development defaults (the API-key pepper, the vault key) are
refused unless the run is local: the server listens on a loopback address only, so nothing but
this machine can reach it (issue 19, finding 8). The local stack generates its own.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from auth_service.people_settings import PeopleSettings
from auth_service.platform_settings import (
    HostSettings,
    InstagramAppSettings,
    MetaAppSettings,
    Section,
    TikTokAppSettings,
)
from herald.sealing import decode_key
from herald.settings import (
    HttpServerSettings,
    KafkaSettings,
    LogSettings,
    MongoSettings,
    service_config,
)

PREFIX = "HERALD_AUTH_"
# A key for local development only: 32 bytes anyone can read here. Refused outside local runs.
DEV_VAULT_KEY = base64.b64encode(b"herald-development-vault-key-32b").decode()
# The pepper of local development, as public as the key above; refused outside local runs.
DEV_API_KEY_PEPPER = "development-api-key-pepper-not-for-production"
# Words that mark a value someone meant to replace; as whole words, so random text rarely hits.
_PLACEHOLDER = re.compile(
    r"(?<![a-z0-9])(change|changeme|placeholder|example|sandbox|dev|development|test|secret|"
    r"password|xxx+|todo|dummy|default)(?![a-z0-9])",
    re.IGNORECASE,
)
MIN_SECRET_CHARS = 32


class VaultSettings(Section):
    keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Keyring: key id -> base64 of a 32-byte AES-256 key. Old keys keep decrypting.",
    )
    primary_kid: str | None = Field(default=None, description="The key id new records use.")


class OAuthSettings(Section):
    state_ttl_s: int = Field(default=600, ge=60, le=3600)
    completion_url: str | None = Field(
        default=None,
        description="Where the browser goes after a callback (with ?status=...); else a page.",
    )
    return_urls: list[str] = Field(
        default_factory=list,
        description="URLs a connect may name as its own return_to (exactly one of these, or "
        "below one at a '/' or '?'): the console's Integrations page, for example. Empty: no "
        "connect may choose where the browser returns.",
    )
    http_timeout_s: float = Field(default=10.0, gt=0)

    @field_validator("return_urls")
    @classmethod
    def _absolute_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not re.fullmatch(r"https?://[^/\s?#@\\]+(/[^\s#\\]*)?", url):
                msg = f"each must be an absolute http(s) URL without userinfo or fragment: {url!r}"
                raise ValueError(msg)
        return value


class RefreshSettings(Section):
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


class EventsSettings(Section):
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
    api_key_pepper: SecretStr = SecretStr(DEV_API_KEY_PEPPER)
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
    people: PeopleSettings = Field(default_factory=PeopleSettings)

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


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


def is_local(settings: Settings) -> bool:
    """Whether only this machine can reach the service: it listens on a loopback address."""
    host = settings.http.host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_defaults(settings: Settings) -> list[str]:
    """The development defaults in use that anyone can read in this repository."""
    problems = []
    if settings.api_key_pepper.get_secret_value() == DEV_API_KEY_PEPPER:
        problems.append(
            f"{PREFIX}API_KEY_PEPPER: is the public development default; set a random value of "
            "32 characters or more (python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    if not settings.vault.keys:
        problems.append(
            f"{PREFIX}VAULT__KEYS: is missing, so the public development key would seal tokens"
        )
    for kid, key in settings.vault.keys.items():
        if key.get_secret_value() == DEV_VAULT_KEY:
            problems.append(f"{PREFIX}VAULT__KEYS[{kid}]: is the public development key")
    return problems


def secret_problems(settings: Settings) -> list[str]:
    """Every secret that is unfit for this run, named by its environment variable: outside
    `development` every weak secret; in `development` malformed keys, and the public defaults
    unless the run is local."""
    if settings.environment == "development":
        problems = keyring_problems(settings.vault)
        if not is_local(settings):
            host = settings.http.host
            problems += [
                f"{p} (the server listens on {host}, not loopback only)"
                for p in public_defaults(settings)
            ]
        return problems
    problems = _vault_problems(settings.vault)
    if settings.api_key_pepper.get_secret_value() == DEV_API_KEY_PEPPER:
        problems.append(f"{PREFIX}API_KEY_PEPPER: is the public development default")
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
        if reason and value != DEV_API_KEY_PEPPER:
            problems.append(f"{name}: {reason}")
    if not settings.service_tokens:
        problems.append(f"{PREFIX}SERVICE_TOKENS: is missing (a JSON object of name -> token)")
    for service, token in settings.service_tokens.items():
        reason = _weak(token.get_secret_value())
        if reason:
            problems.append(f"{PREFIX}SERVICE_TOKENS[{service}]: {reason}")
    return problems
