"""Sign-in (email and password, or a business's API key), sign-out here and everywhere, the
Team page for owners and the invitation page (ADR 0024). Every form carries a CSRF token: the
session's once signed in, a double-submit cookie before (sign-in, accepting an invitation)."""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.client import ApiError
from console.people_client import PeopleApi, SignedIn
from console.sessions import (
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    Person,
    new_token,
    same_token,
)

if TYPE_CHECKING:
    from console.app import Console

ROLES = ("owner", "editor", "viewer")
EXPIRED_FORM = "The form expired or came from another site: reload the page and try again."
Text = Annotated[str, Form(max_length=300)]
# auth-service's answer to a person in several businesses names each: "biz_... (Name), ..."
_CHOICE = re.compile(r"(biz_[0-9a-f]+) \((.*?)\)(?=, biz_|$)")


def business_choices(message: str) -> list[tuple[str, str]]:
    """(id, name) of each business auth-service named, when it asked which one."""
    if not message.startswith("business_id:"):
        return []
    return _CHOICE.findall(message.split("name one of ", 1)[-1])


def _people(console: Console) -> PeopleApi:
    if console.people is None:
        raise ApiError(503, "this console has no connection to auth-service's people API")
    return console.people


def _signed_in_as(console: Console, signed: SignedIn) -> Response:
    person = Person(signed.user_id, signed.email, signed.name, signed.role, signed.business_name)
    left = (signed.expires_at - console.now()).total_seconds()
    sealed, _ = console.sessions.open(
        signed.token,
        person,
        ttl_s=max(left, 1.0),
        zone=signed.business_timezone,
        business_id=signed.business_id,
    )
    response = RedirectResponse("/integrations", status_code=303)
    console.cookie(response, SESSION_COOKIE, sealed)
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/")
    return response


def sign_in_routes(console: Console) -> APIRouter:
    router = APIRouter()

    def form(request: Request, status: int = 200, **context: Any) -> Response:
        token = new_token()
        context = {"error": None, "field": None, "email": "", "choices": []} | context
        response = console.page(
            request, "sign_in.html", status, csrf=token, session=None, **context
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
        *,
        email: Text = "",
        password: Annotated[str, Form(max_length=256)] = "",
        api_key: Annotated[str, Form(max_length=200)] = "",
        business_id: Annotated[str, Form(max_length=64)] = "",
        csrf: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        if not same_token(request.cookies.get(SIGN_IN_CSRF_COOKIE), csrf):
            return form(request, 403, error=EXPIRED_FORM)
        if api_key.strip():
            return await _with_key(request, api_key.strip())
        if not email.strip():
            return form(request, 422, error="Enter your email address.", field="email")
        if not password:
            return form(request, 422, error="Enter your password.", field="password", email=email)
        return await _with_password(request, email, password, business_id)

    async def _with_password(
        request: Request, email: str, password: str, business_id: str
    ) -> Response:
        address = request.client.host if request.client else "unknown"
        try:
            signed = await _people(console).sign_in(
                email.strip(), password, address=address, business_id=business_id or None
            )
        except ApiError as exc:
            choices = business_choices(exc.message) if exc.status == 400 else []
            if choices:
                error = "You belong to several businesses: choose one and sign in again."
                return form(
                    request, 400, error=error, field="business_id", email=email, choices=choices
                )
            field = "email" if exc.status in (400, 401, 403, 429) else None
            status = exc.status if exc.status in (400, 401, 403, 429) else 503
            message = {401: "The email or the password is wrong."}.get(exc.status, exc.message)
            return form(request, status, error=message, field=field, email=email)
        return _signed_in_as(console, signed)

    async def _with_key(request: Request, key: str) -> Response:
        try:
            await console.api.integrations(key)
        except ApiError as exc:
            if exc.status in (401, 403):
                error = "Herald did not accept this API key."
                return form(request, 401, error=error, field="api_key")
            return form(request, 503, error=f"Herald could not check the key: {exc.message}")
        zone, business_id = None, ""
        if console.people is not None:
            # An auth-service without `/v1/business` (or a blip) leaves the console's own zone.
            with contextlib.suppress(ApiError):
                business = await console.people.business(key)
                zone, business_id = business.timezone, business.business_id
        sealed, _ = console.sessions.open(key, zone=zone, business_id=business_id)
        response = RedirectResponse("/integrations", status_code=303)
        console.cookie(response, SESSION_COOKIE, sealed)
        response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/")
        return response

    return router


def sign_out_routes(console: Console) -> APIRouter:
    router = APIRouter()

    @router.post("/sign-out")
    async def sign_out(
        request: Request, csrf: Annotated[str, Form(max_length=100)] = ""
    ) -> Response:
        session = console.signed_in(request)
        if session is not None and not same_token(session.csrf, csrf):
            return Response("The sign-out form expired: reload the page.", status_code=403)
        if session is not None and session.person is not None and console.people is not None:
            # Ends it in auth-service, so a copy of the cookie dies with it. An error: already
            # ended there (expired, signed out elsewhere), nothing to undo.
            with contextlib.suppress(ApiError):
                await console.people.sign_out(session.api_key)
        response = RedirectResponse("/sign-in", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.post("/sign-out-everywhere")
    async def sign_out_everywhere(
        request: Request, csrf: Annotated[str, Form(max_length=100)] = ""
    ) -> Response:
        session = console.signed_in(request)
        if session is None or session.person is None:
            return RedirectResponse("/sign-in", status_code=303)
        if not same_token(session.csrf, csrf):
            return Response("The sign-out form expired: reload the page.", status_code=403)
        try:
            await _people(console).sign_out_everywhere(session.api_key)
        except ApiError as exc:
            if exc.status != 401:  # 401: ended already; otherwise nothing was revoked
                return console.page(
                    request,
                    "unavailable.html",
                    502,
                    title="Sign out everywhere",
                    error=exc,
                    session=session,
                )
        # Every session of the person is revoked in auth-service: another browser's cookie
        # still opens here, but its next API call answers 401 and the page says it ended.
        response = RedirectResponse("/sign-in", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    return router
