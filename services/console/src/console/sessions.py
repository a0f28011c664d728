"""Signed-in browsers: the session sealed into an HttpOnly, SameSite=Strict cookie (AES-256-GCM
under the console's keyring, `herald.sealing`; ADR 0024), and a CSRF token per session that
every form posts back. Before sign-in, the sign-in form's token is a double-submit cookie.

The cookie holds the credential (a console session of auth-service, `hs_...`, for a person
signed in with email and password; or, for operators and scripts, a business's API key,
`hk_...`, all rights), the CSRF token, the person, the expiry, and the business's id and time
zone as at sign-in (`console.zones` says when a newer zone wins), sealed with the cookie's
purpose as associated data: the browser can neither read nor change it, and nothing is kept in
the process, so a restart signs nobody out and any replica opens any cookie. A cookie that does
not open (tampered, expired, sealed under a key no longer in the ring, or for another purpose)
is no session: the browser is signed out. Sign-out ends the session in auth-service, which
the APIs check on every call, so a copy of the cookie stops working there too.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from herald.sealing import VERSION, Envelope, Keyring, SealError

SESSION_COOKIE = "herald_console_session"
SIGN_IN_CSRF_COOKIE = "herald_console_csrf"  # the sign-in form's double-submit token
DOMAIN = "herald-console"  # starts every cookie's associated data (herald.sealing's domain)
PURPOSE = "session-cookie"  # what the sealed text is for: a console sign-in, nothing else


@dataclass(frozen=True)
class Person:
    """Who a console session is for, as auth-service said at sign-in."""

    user_id: str
    email: str
    name: str
    role: str  # owner, editor, viewer
    business_name: str


@dataclass(frozen=True)
class Session:
    api_key: str  # the bearer sent to the APIs: an auth-service session or an API key
    csrf: str
    expires_at: float  # seconds since the epoch (wall clock: a cookie outlives the process)
    person: Person | None = None  # None: signed in with an API key
    # The business's IANA zone as auth-service said at sign-in, or as this person just set it
    # on Settings (None: it has none, and the console's HERALD_CONSOLE_TIME_ZONE stands in),
    # and its id, under which the console keeps the zone it last read (`console.zones`).
    zone: str | None = None
    business_id: str = ""

    @property
    def can_write(self) -> bool:
        """Whether pages show write actions; the APIs refuse a viewer's writes anyway."""
        return self.person is None or self.person.role != "viewer"

    @property
    def is_owner(self) -> bool:
        return self.person is not None and self.person.role == "owner"


class Sessions:
    """Seals sessions into cookie values and opens them; keeps nothing."""

    def __init__(
        self, keyring: Keyring, ttl_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._keyring = keyring
        self._ttl_s = ttl_s
        self._clock = clock

    def open(
        self,
        api_key: str,
        person: Person | None = None,
        ttl_s: float | None = None,
        *,
        zone: str | None = None,
        business_id: str = "",
    ) -> tuple[str, Session]:
        """A new session and its cookie value; it lasts `ttl_s` (the session's own time left
        in auth-service) but never longer than the console's setting."""
        lasts = min(self._ttl_s, ttl_s) if ttl_s is not None else self._ttl_s
        expires_at = float(round(self._clock() + lasts))  # whole seconds, as sealed
        session = Session(api_key, secrets.token_urlsafe(32), expires_at, person, zone, business_id)
        return self.seal(session), session

    def seal(self, session: Session, purpose: str = PURPOSE) -> str:
        """The cookie value of `session`: also to seal it again after it changed (an owner
        who set the business's zone gets a cookie with the new zone, same expiry)."""
        envelope = self._keyring.seal(
            json.dumps(_doc(session), separators=(",", ":"), ensure_ascii=False), purpose
        )
        return ".".join((str(envelope.v), envelope.kid, _url(envelope.nonce), _url(envelope.ct)))

    def get(self, cookie: str | None, purpose: str = PURPOSE) -> Session | None:
        """The session in this cookie, or None when there is none, it does not open or it
        has expired."""
        if not cookie:
            return None
        try:
            session = _session(json.loads(self._keyring.open(_envelope(cookie), purpose)))
        except (SealError, ValueError, KeyError, TypeError):
            return None
        return session if session.expires_at > self._clock() else None


def _doc(session: Session) -> dict[str, Any]:
    p = session.person
    person = [p.user_id, p.email, p.name, p.role, p.business_name] if p else None
    doc = {"k": session.api_key, "c": session.csrf, "e": round(session.expires_at), "p": person}
    # The business (its id, and its zone at sign-in or as its owner last set it here); left
    # out when unknown, so an API-key session of an older auth-service stays as small as before.
    if session.business_id:
        doc["b"] = session.business_id
    if session.zone:
        doc["z"] = session.zone
    return doc


def _session(doc: dict[str, Any]) -> Session:
    person = Person(*(str(x) for x in doc["p"])) if doc["p"] is not None else None
    zone = doc.get("z")  # a cookie sealed before sessions carried the business has neither
    return Session(
        str(doc["k"]),
        str(doc["c"]),
        float(doc["e"]),
        person,
        str(zone) if zone else None,
        str(doc.get("b", "")),
    )


def _envelope(cookie: str) -> Envelope:
    """`<version>.<key id>.<nonce>.<ciphertext>`, base64url without padding (cookie-safe)."""
    version, kid, nonce, ct = cookie.split(".")  # ValueError: not four parts
    if version != str(VERSION):
        msg = f"not a version {VERSION} session cookie"
        raise SealError(msg)
    return Envelope(VERSION, kid, _std(nonce), _std(ct))


def _url(standard: str) -> str:
    return standard.rstrip("=").replace("+", "-").replace("/", "_")


def _std(url: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(url + "=" * (-len(url) % 4))
    except (binascii.Error, ValueError) as exc:
        msg = "not base64url"
        raise SealError(msg) from exc
    return base64.b64encode(raw).decode()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing token never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
