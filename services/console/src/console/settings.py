"""Settings of the console: environment variables prefixed `HERALD_CONSOLE_`."""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from herald.settings import HttpServerSettings, LogSettings, service_config


class SessionKeySettings(BaseModel):
    """The keyring sealing the session cookies (`herald.sealing`, ADR 0024)."""

    model_config = {"extra": "forbid"}

    keys: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Keyring: key id -> base64 of a 32-byte AES-256 key. New cookies are sealed "
        "with the primary key; older keys keep opening theirs until they expire, so a rotation "
        "signs nobody out. Required in production, and in development unless the server "
        "listens on loopback only, where a public development key stands in.",
    )
    primary_kid: str | None = Field(
        default=None,
        description="The key id new cookies are sealed with (the only key: itself).",
    )

    @field_validator("keys")
    @classmethod
    def _cookie_safe_ids(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        bad = [kid for kid in value if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", kid)]
        if bad:
            msg = f"key ids are letters, digits, - and _ (they travel in the cookie): {bad}"
            raise ValueError(msg)
        return value


class Settings(BaseSettings):
    model_config = service_config("HERALD_CONSOLE_")

    http: HttpServerSettings = Field(default_factory=lambda: HttpServerSettings(port=8130))
    log: LogSettings = Field(default_factory=LogSettings)
    environment: Literal["development", "production"] = Field(
        default="development",
        description="production: refuses to start without SESSIONS__KEYS or with the public "
        "development key (console.keys).",
    )
    sessions: SessionKeySettings = Field(default_factory=SessionKeySettings)
    auth_url: str = Field(
        default="http://127.0.0.1:8101", description="auth-service's public API (integrations)."
    )
    scheduler_url: str = Field(
        default="http://127.0.0.1:8102", description="The scheduler's public API (posts)."
    )
    time_zone: str = Field(
        default="UTC",
        description="The IANA time zone pages use for a business that has none of its own "
        "(auth-service keeps each business's; an owner sets it on the Settings page).",
    )
    secure_cookies: bool = Field(
        default=True,
        description="Mark cookies Secure (sent over https only); off for a local run over http.",
    )
    session_ttl_s: int = Field(default=8 * 3600, ge=60, description="How long a sign-in lasts.")
    api_timeout_s: float = Field(default=10.0, gt=0, description="Per call to auth or scheduler.")
    import_max_bytes: int = Field(
        default=5 * 1_048_576,
        ge=1,
        description="The largest CSV file the Audiences page imports (the scheduler's own limit, "
        "20 MiB by default, still applies).",
    )
    import_timeout_s: float = Field(
        default=60.0, gt=0, description="How long an import's upload may take to arrive."
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            msg = f"not an IANA time zone: {value!r}"
            raise ValueError(msg) from exc
        return value

    @field_validator("auth_url", "scheduler_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            msg = f"must be an http(s) URL, got {value!r}"
            raise ValueError(msg)
        return value.rstrip("/")
