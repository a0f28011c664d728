"""Pure models and rules of auth-service: keys, integrations, their status, when they refresh.

Nothing here does I/O or imports a framework or driver (a test checks it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from herald.events import IntegrationStatus
from herald.topics import Platform

KEY_PREFIX = "hk"
SCOPES = frozenset({"posts:write", "posts:read", "integrations:read", "integrations:write"})
_KEY = re.compile(r"^hk_(?P<id>[a-f0-9]{16})_(?P<secret>[A-Za-z0-9_-]{43})$")


class AuthServer(StrEnum):
    """Where a person authorizes: Facebook Login (also Instagram via Pages, WhatsApp Embedded
    Signup), Business Login for Instagram, TikTok Login Kit."""

    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    TIKTOK = "tiktok"


class RefreshMode(StrEnum):
    ROTATE = "rotate"  # TikTok: refresh token grant, the refresh token rotates
    EXCHANGE = "exchange"  # Facebook long-lived user token, Instagram-login token
    CHECK = "check"  # Page and system-user tokens: checked with debug_token, never refreshed


class SecretField(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"
    USER = "user"  # Facebook: the long-lived user token a Page token derives from
    PKCE_VERIFIER = "pkce_verifier"  # an OAuth state's PKCE verifier, until its callback
    PIN = "pin"  # WhatsApp: the two-step verification PIN Herald registered the number with


# ---- API keys -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewApiKey:
    key_id: str
    secret: str

    @property
    def full(self) -> str:
        return f"{KEY_PREFIX}_{self.key_id}_{self.secret}"


def generate_api_key() -> NewApiKey:
    """`hk_<16 hex>_<43 url-safe chars>`: a 64-bit id to look up, 256 random bits to verify."""
    return NewApiKey(secrets.token_hex(8), secrets.token_urlsafe(32))


def parse_api_key(value: str) -> tuple[str, str] | None:
    """(key_id, secret) of a well-formed key; None without a database look-up otherwise."""
    match = _KEY.match(value)
    return (match["id"], match["secret"]) if match else None


def hash_secret(secret: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(secret: str, pepper: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret, pepper), stored_hash)


@dataclass(frozen=True)
class Business:
    id: str
    name: str
    created_at: datetime
    # The IANA zone its people read times in (the console's pages); None until one is set.
    timezone: str | None = None


def known_timezone(name: str) -> str:
    """`name` if it is an IANA time zone this installation knows (`zoneinfo`), else ValueError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = f"not an IANA time zone: {name!r} (e.g. Europe/Berlin, America/New_York, UTC)"
        raise ValueError(msg) from exc
    return name


@dataclass(frozen=True)
class ApiKeyRecord:
    key_id: str
    business_id: str
    name: str
    scopes: tuple[str, ...]
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    # The public half of the Ed25519 pair derived from the secret (herald.producerauth), to
    # verify `post.submitted` events signed with this key; None for keys issued before it.
    event_key: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


# ---- OAuth -----------------------------------------------------------------------------------


def new_state() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    """How states and codes are stored and looked up: never the value itself."""
    return hashlib.sha256(value.encode()).hexdigest()


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) per RFC 7636."""
    verifier = secrets.token_urlsafe(64)
    return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
    """The S256 code_challenge of a verifier: base64url of its SHA-256, unpadded."""
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return challenge.decode().rstrip("=")


def browser_cookie_name(state_hash: str) -> str:
    """The cookie binding one OAuth flow to the browser that started it: one per state, so a
    browser can run several connections at once."""
    return f"herald_oauth_{state_hash[:16]}"


@dataclass(frozen=True)
class OAuthState:
    state_hash: str
    business_id: str
    provider: Platform
    auth_server: AuthServer
    redirect_uri: str
    created_at: datetime
    expires_at: datetime
    verifier: Sealed | None = None  # the PKCE code_verifier, sealed by the vault like tokens
    return_to: str | None = None  # where the browser goes after the callback (an allowed URL)


# ---- Integrations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sealed:
    """One encrypted field: `{v, kid, nonce, ct}` (base64 nonce and ciphertext||tag)."""

    v: int
    kid: str
    nonce: str
    ct: str


@dataclass(frozen=True)
class DiscoveredAccount:
    """One account found after a code exchange, with its tokens in plain text (in memory only)."""

    platform: Platform
    account_id: str
    account_name: str | None
    account: dict[str, str]
    scopes: tuple[str, ...]
    mode: RefreshMode
    auth_server: AuthServer
    provider_user_id: str | None
    tokens: dict[SecretField, str]
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    user_expires_at: datetime | None = None


@dataclass(frozen=True)
class TokenGrant:
    """What a refresh returned. A missing refresh token keeps the stored one."""

    access_token: str
    expires_at: datetime | None
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None
    user_token: str | None = None
    user_expires_at: datetime | None = None
    scopes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Integration:
    id: str
    business_id: str
    platform: Platform
    account_id: str
    account_name: str | None
    account: dict[str, str]
    scopes: tuple[str, ...]
    status: IntegrationStatus
    mode: RefreshMode
    auth_server: AuthServer
    provider_user_id: str | None
    secrets: dict[SecretField, Sealed]
    connected_at: datetime
    version: int = 0
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    user_expires_at: datetime | None = None
    last_used_at: datetime | None = None
    last_refresh_at: datetime | None = None
    last_checked_at: datetime | None = None
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    refresh_failures: int = 0
    reason: str | None = None
    disconnected_at: datetime | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return self.status is IntegrationStatus.ACTIVE


@dataclass(frozen=True)
class Margins:
    short_s: int
    long_s: int
    check_interval_s: int
    expiring_window_s: int


def reauth_deadline(integration: Integration) -> datetime | None:
    """When the person must reconnect unless something renews the connection first."""
    if integration.mode is RefreshMode.ROTATE:
        return integration.refresh_expires_at
    if integration.mode is RefreshMode.EXCHANGE:
        return integration.user_expires_at or integration.expires_at
    return integration.expires_at


def reported_status(integration: Integration, now: datetime, margins: Margins) -> IntegrationStatus:
    """The stored status, with `expiring` for an active one whose end is near or past."""
    if integration.status is not IntegrationStatus.ACTIVE:
        return integration.status
    deadline = reauth_deadline(integration)
    if deadline is not None and deadline - now <= timedelta(seconds=margins.expiring_window_s):
        return IntegrationStatus.EXPIRING
    return IntegrationStatus.ACTIVE


def refresh_due(integration: Integration, now: datetime, margins: Margins) -> bool:
    """Whether the background loop should refresh (or check) this integration now."""
    if integration.status is not IntegrationStatus.ACTIVE:
        return False
    if integration.next_attempt_at is not None and integration.next_attempt_at > now:
        return False
    if integration.mode is RefreshMode.CHECK:
        last = integration.last_checked_at or integration.connected_at
        return now - last >= timedelta(seconds=margins.check_interval_s)
    expiry = integration.expires_at
    if integration.mode is RefreshMode.EXCHANGE and integration.user_expires_at is not None:
        expiry = min(expiry, integration.user_expires_at) if expiry else integration.user_expires_at
    if expiry is None:
        return False
    margin = margins.short_s if integration.mode is RefreshMode.ROTATE else margins.long_s
    return expiry - now <= timedelta(seconds=margin)


INSTAGRAM_MIN_REFRESH_AGE = timedelta(hours=24)


def refreshable(integration: Integration, now: datetime) -> bool:
    """Whether the platform will renew the token now. Instagram refreshes an Instagram-login
    token only once it is 24 h old (platform-apis.md §2.1); a younger one is still good for
    about 60 days, so "refresh" then means checking that it works."""
    if integration.mode is RefreshMode.CHECK:
        return False
    instagram_login = integration.auth_server is AuthServer.INSTAGRAM
    if integration.platform is Platform.INSTAGRAM and instagram_login:
        issued = integration.last_refresh_at or integration.connected_at
        return now - issued >= INSTAGRAM_MIN_REFRESH_AGE
    return True


def access_usable(integration: Integration, now: datetime, min_remaining_s: int = 120) -> bool:
    """The stored access token can be handed out without refreshing first."""
    if integration.expires_at is None:
        return True
    return integration.expires_at - now > timedelta(seconds=min_remaining_s)
