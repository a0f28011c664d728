"""Pure models and rules of console users (issue 22, ADR 0024): people with an email and a
password, their role in each business, invitations by link and sign-in sessions.

Tokens (sessions `hs_<id>_<secret>`, invitations `hi_<id>_<secret>`) have the API keys' shape:
an id to look up and 256 random bits to verify; only an HMAC of the secret (keyed with the
server's pepper, `domain.hash_secret`) is stored. Nothing here does I/O (a test checks it).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from auth_service.domain import SCOPES

SESSION_PREFIX = "hs"
INVITATION_PREFIX = "hi"
_TOKEN = re.compile(r"^(?P<prefix>hs|hi)_(?P<id>[a-f0-9]{16})_(?P<secret>[A-Za-z0-9_-]{43})$")
# Deliberately loose (one @, a dot in the domain, no spaces or control characters): the
# invitation link proves the address; a stricter pattern only refuses real addresses. Written
# with explicit ranges, not `\s`, so that Python and the OpenAPI document's regex agree.
EMAIL_PATTERN = r"^[^@\x00-\x20\x7f]{1,64}@[^@.\x00-\x20\x7f]+(\.[^@.\x00-\x20\x7f]+)+$"
# Something visible: a character that is not a space or a control character (and no NUL).
NAME_PATTERN = r"^[^\x00]*[^\x00-\x20\x7f][^\x00]*$"
_EMAIL = re.compile(EMAIL_PATTERN)
_NAME = re.compile(NAME_PATTERN)
EMAIL_MAX = 254
PASSWORD_MIN = 12  # NIST SP 800-63B: at least 8; 12 because a console holds a business's posts
PASSWORD_MAX = 256  # argon2 hashes any length; a bound keeps a request's cost bounded
NAME_MAX = 100


class Role(StrEnum):
    OWNER = "owner"  # everything, and the team: invite, change roles, remove
    EDITOR = "editor"  # posts, integrations, webhooks
    VIEWER = "viewer"  # reads only


READ_SCOPES = frozenset({"posts:read", "integrations:read"})
ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.OWNER: SCOPES,
    Role.EDITOR: SCOPES,
    Role.VIEWER: READ_SCOPES,
}


@dataclass(frozen=True)
class User:
    user_id: str
    email: str
    name: str
    password_hash: str
    created_at: datetime


@dataclass(frozen=True)
class Membership:
    business_id: str
    user_id: str
    role: Role
    created_at: datetime


@dataclass(frozen=True)
class Invitation:
    invitation_id: str
    business_id: str
    email: str
    role: Role
    secret_hash: str
    invited_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and now < self.expires_at


@dataclass(frozen=True)
class Session:
    session_id: str
    user_id: str
    business_id: str
    secret_hash: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True)
class Token:
    prefix: str
    token_id: str
    secret: str

    @property
    def full(self) -> str:
        return f"{self.prefix}_{self.token_id}_{self.secret}"


def new_token(prefix: str) -> Token:
    return Token(prefix, secrets.token_hex(8), secrets.token_urlsafe(32))


def parse_token(value: str, prefix: str) -> Token | None:
    """The token `value` is, if well formed with this prefix; no look-up otherwise."""
    match = _TOKEN.match(value.strip())
    if match is None or match["prefix"] != prefix:
        return None
    return Token(prefix, match["id"], match["secret"])


def is_session_token(value: str) -> bool:
    return value.startswith(f"{SESSION_PREFIX}_")


def normalize_email(value: str) -> str | None:
    """The address in the form it is stored and compared in (lower case), or None if it is
    not one. Callers strip what a person typed around it (the console does)."""
    if len(value) > EMAIL_MAX or _EMAIL.match(value) is None:
        return None
    return value.lower()


def password_problem(password: str) -> str | None:
    if len(password) < PASSWORD_MIN:
        return f"must be at least {PASSWORD_MIN} characters"
    if len(password) > PASSWORD_MAX:
        return f"must be at most {PASSWORD_MAX} characters"
    return None  # no composition rules (NIST SP 800-63B): length is what counts


def name_problem(name: str) -> str | None:
    if _NAME.match(name) is None:
        return "must not be empty"
    if len(name) > NAME_MAX:
        return f"must be at most {NAME_MAX} characters"
    return None
