"""Signed-in browsers: a random session id in an HttpOnly, SameSite=Strict cookie, the API key
kept server-side in this process's memory (never in the browser), and a CSRF token per session
that every form posts back. Before sign-in, the sign-in form's token is a double-submit cookie.

In memory, so one console process holds its sessions and a restart signs everyone out: enough
for this slice; console users in auth-service (issue 22, item 2) replace the API-key sign-in.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

SESSION_COOKIE = "herald_console_session"
SIGN_IN_CSRF_COOKIE = "herald_console_csrf"  # the sign-in form's double-submit token


@dataclass(frozen=True)
class Session:
    api_key: str
    csrf: str
    expires_at: float


class Sessions:
    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._by_id: dict[str, Session] = {}

    def open(self, api_key: str) -> tuple[str, Session]:
        self._sweep()
        session_id = secrets.token_urlsafe(32)
        session = Session(api_key, secrets.token_urlsafe(32), self._clock() + self._ttl_s)
        self._by_id[session_id] = session
        return session_id, session

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
