"""The console's routes: sign-in and sign-out (CSRF-checked forms), and the pages."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console import views
from console.client import ApiError
from console.sessions import (
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    Session,
    new_token,
    same_token,
)

if TYPE_CHECKING:
    from console.app import Console

HISTORY_LIMIT = 50


def sign_in_routes(console: Console) -> APIRouter:
    router = APIRouter()

    def form(request: Request, error: str | None = None, status: int = 200) -> Response:
        token = new_token()
        response = console.page(
            request, "sign_in.html", status, csrf=token, error=error, session=None
        )
        console.cookie(response, SIGN_IN_CSRF_COOKIE, token)
        return response

    @router.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/integrations", status_code=303)

    @router.get("/sign-in", response_class=HTMLResponse)
    async def sign_in_page(request: Request) -> Response:
        if console.signed_in(request):
            return RedirectResponse("/integrations", status_code=303)
        return form(request)

    @router.post("/sign-in", response_class=HTMLResponse)
    async def sign_in(
        request: Request,
        api_key: Annotated[str, Form(max_length=200)] = "",
        csrf: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        if not same_token(request.cookies.get(SIGN_IN_CSRF_COOKIE), csrf):
            return form(request, "The form expired or came from another site: sign in again.", 403)
        key = api_key.strip()
        if not key:
            return form(request, "Enter the business's API key.", 422)
        try:
            await console.api.integrations(key)
        except ApiError as exc:
            if exc.status in (401, 403):
                return form(request, "Herald did not accept this API key.", 401)
            return form(request, f"Herald could not check the key: {exc.message}", 503)
        session_id, _ = console.sessions.open(key)
        response = RedirectResponse("/integrations", status_code=303)
        console.cookie(response, SESSION_COOKIE, session_id)
        response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/")
        return response

    @router.post("/sign-out")
    async def sign_out(
        request: Request, csrf: Annotated[str, Form(max_length=100)] = ""
    ) -> Response:
        session = console.signed_in(request)
        if session is not None and not same_token(session.csrf, csrf):
            return Response("The sign-out form expired: reload the page.", status_code=403)
        console.sessions.close(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/sign-in", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    return router


def page_routes(console: Console) -> APIRouter:
    router = APIRouter()

    def unavailable(request: Request, session: Session, title: str, exc: ApiError) -> Response:
        status = 502 if exc.status >= 500 else exc.status
        return console.page(
            request, "unavailable.html", status, title=title, error=exc, session=session
        )

    @router.get("/integrations", response_class=HTMLResponse)
    async def integrations(request: Request) -> Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        try:
            found = await console.api.integrations(session.api_key)
        except ApiError as exc:
            return unavailable(request, session, "Integrations", exc)
        rows = views.integration_rows(found, console.now())
        return console.page(request, "integrations.html", rows=rows, session=session, current="int")

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
