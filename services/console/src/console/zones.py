"""Each business's time zone as this console process last read it from auth-service
(`GET /v1/business`), kept for `max_age_s` (ADR 0024).

A session's cookie carries its business's zone as at sign-in; cookies are sealed in the browser,
so when an owner changes the zone the console cannot rewrite other people's. Instead, the first
page of a business's session after `max_age_s` reads the zone again (one call per business per
process per minute, whoever's session it is), and every page shows the zone read here over the
one sealed in its cookie. The owner's own change is put here at once (and sealed into their
cookie); other console replicas follow within `max_age_s`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from console.client import ApiError

if TYPE_CHECKING:
    from console.app import Console
    from console.sessions import Session

MAX_AGE_S = 60.0


@dataclass(frozen=True)
class _Read:
    zone: str | None  # None: the business has none set
    at: float  # when it was read (or last tried), on `clock`
    known: bool  # False: tried, auth-service did not answer; the cookie's zone stands


class BusinessZones:
    def __init__(
        self, max_age_s: float = MAX_AGE_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._max_age_s = max_age_s
        self._clock = clock
        self._by_business: dict[str, _Read] = {}

    def zone(self, session: Session) -> str | None:
        """The session's business's zone: as last read here, else as sealed in its cookie."""
        read = self._by_business.get(session.business_id) if session.business_id else None
        return read.zone if read is not None and read.known else session.zone

    def put(self, business_id: str, zone: str | None) -> None:
        if business_id:
            self._by_business[business_id] = _Read(zone, self._clock(), known=True)

    def claim(self, business_id: str) -> bool:
        """Whether the caller should read this business's zone now: nothing read in the last
        `max_age_s`. Marks the attempt, so concurrent pages and a failing auth-service do not
        read it again before `max_age_s` passes."""
        if not business_id:
            return False
        read = self._by_business.get(business_id)
        now = self._clock()
        if read is not None and now - read.at < self._max_age_s:
            return False
        known = read is not None and read.known
        self._by_business[business_id] = _Read(read.zone if read else None, now, known)
        return True


def install_zone_refresh(app: FastAPI, console: Console) -> None:
    """Before a signed-in page, reads its business's zone when `console.zones` has none fresh."""

    @app.middleware("http")
    async def refresh_zone(request: Request, call_next: Any) -> Response:
        session = console.signed_in(request)
        people = console.people
        if session is not None and people is not None and console.zones.claim(session.business_id):
            # A blip (or a session ended in auth-service) keeps the zone already known; the
            # page itself says what is wrong with the session.
            with contextlib.suppress(ApiError):
                business = await people.business(session.api_key)
                console.zones.put(session.business_id, business.timezone)
        response: Response = await call_next(request)
        return response
