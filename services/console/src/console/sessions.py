"""Signed-in browsers: a random session id in an HttpOnly, SameSite=Strict cookie, the
credential kept server-side in this process's memory (never in the browser), and a CSRF token
per session that every form posts back. Before sign-in, the sign-in form's token is a
double-submit cookie.

The credential is a console session of auth-service (`hs_...`, a person signed in with email
and password, ADR 0024) or, for operators and scripts, a business's API key (`hk_...`, all
rights). In memory, so one console process holds its sessions and a restart signs everyone out;
the session in auth-service is what the APIs check, so a sign-out there ends this one too.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

SESSION_COOKIE = "herald_console_session"
SIGN_IN_CSRF_COOKIE = "herald_console_csrf"  # the sign-in form's double-submit token


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
    expires_at: float
    person: Person | None = None  # None: signed in with an API key
    # The business's IANA zone as auth-service said at sign-in (None: it has none, and the
    # console's HERALD_CONSOLE_TIME_ZONE stands in), and its id, to re-zone its sessions.
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
    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._by_id: dict[str, Session] = {}

    def open(
        self,
        api_key: str,
        person: Person | None = None,
        ttl_s: float | None = None,
        *,
        zone: str | None = None,
        business_id: str = "",
    ) -> tuple[str, Session]:
        self._sweep()
        session_id = secrets.token_urlsafe(32)
        lasts = min(self._ttl_s, ttl_s) if ttl_s is not None else self._ttl_s
        expires_at = self._clock() + lasts
        session = Session(api_key, secrets.token_urlsafe(32), expires_at, person, zone, business_id)
        self._by_id[session_id] = session
        return session_id, session

    def rezone(self, business_id: str, zone: str) -> None:
        """Every session of the business here shows `zone` from its next page (an owner just
        changed it; sessions in other console processes learn it at their next sign-in)."""
        for session_id, session in list(self._by_id.items()):
            if business_id and session.business_id == business_id:
                self._by_id[session_id] = replace(session, zone=zone)

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        session = self._by_id.get(session_id)
        if session is None or session.expires_at <= self._clock():
            self._by_id.pop(session_id, None)
            return None
        return session

    def close(self, session_id: str | None) -> None:
        if session_id:
            self._by_id.pop(session_id, None)

    def close_person(self, user_id: str) -> None:
        """Every session of this person here (after they signed out everywhere)."""
        for session_id in [
            k for k, s in self._by_id.items() if s.person and s.person.user_id == user_id
        ]:
            del self._by_id[session_id]

    def rezone_one(self, session_id: str | None, zone: str) -> None:
        session = self._by_id.get(session_id or "")
        if session_id and session is not None:
            self._by_id[session_id] = replace(session, zone=zone)

    def _sweep(self) -> None:
        now = self._clock()
        for session_id in [k for k, s in self._by_id.items() if s.expires_at <= now]:
            del self._by_id[session_id]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing token never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
