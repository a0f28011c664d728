"""The console's History page (sign-in, sign-out and the team: `people_routes`, `team_routes`;
Integrations: `integrations_routes`)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console import views
from console.client import ApiError
from console.sessions import (
    Session,
)

if TYPE_CHECKING:
    from console.app import Console

HISTORY_LIMIT = 50


def page_routes(console: Console) -> APIRouter:
    router = APIRouter()

    def unavailable(request: Request, session: Session, title: str, exc: ApiError) -> Response:
        status = 502 if exc.status >= 500 else exc.status
        return console.page(
            request, "unavailable.html", status, title=title, error=exc, session=session
        )

    @router.get("/history", response_class=HTMLResponse)
    async def history(request: Request) -> Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        try:
            posts, accounts = await asyncio.gather(  # the two services at once
                console.api.posts(session.api_key, limit=HISTORY_LIMIT),
                console.api.integrations(session.api_key),
            )
        except ApiError as exc:
            return unavailable(request, session, "History", exc)
        rows = views.post_rows(posts, accounts)
        return console.page(request, "history.html", rows=rows, session=session, current="hist")

    return router
