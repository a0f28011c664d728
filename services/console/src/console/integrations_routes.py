"""Integrations: `GET /integrations` shows every connected account with its status; Connect and
Reconnect run the platform's real OAuth flow through auth-service, returning here; Refresh now
and Disconnect are auth-service's own routes behind CSRF-checked forms.

Connect is a link, not a form: `GET /integrations/connect/<platform>` asks auth-service for a
start link whose flow returns to this page (`return_to`, which auth-service admits only when the
installation lists it: HERALD_AUTH_OAUTH__RETURN_URLS) and sends the browser there. A form
could not: the console's CSP (`form-action 'self'`) also governs where a form's redirects may
go, and the flow crosses to auth-service and the platform. The session cookie is SameSite=Strict,
so another site cannot start a connection for the person.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console import views
from console.client import ApiError
from console.sessions import Session, same_token
from herald.rules.common import PLATFORM_NAMES
from herald.topics import Platform

if TYPE_CHECKING:
    from console.app import Console

VIEWER = "A viewer cannot connect or change accounts: ask an owner for the editor role."
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
DONE = {
    "refresh": "Refreshed: the account's token is renewed.",
    "disconnect": "Disconnected: Herald no longer publishes to that account.",
}
REFUSED = {  # auth-service's codes on a flow that came back without an account
    "access_denied": "the permission was not granted on the platform's page",
    "state_expired": "the connection took too long; start it again",
}


def integrations_routes(console: Console) -> APIRouter:
    router = APIRouter()

    async def show(
        request: Request, session: Session, *, alert: str | None = None, status: int = 200
    ) -> Response:
        try:
            found = await console.api.integrations(session.api_key)
        except ApiError as exc:
            return console.unavailable(request, session, "Integrations", exc)
        return console.page(
            request,
            "integrations.html",
            status,
            rows=views.integration_rows(found, console.now()),
            session=session,
            current="int",
            platforms=[(p.value, PLATFORM_NAMES[p]) for p in Platform],
            done=returned(dict(request.query_params)),
            alert=alert,
        )

    @router.get("/integrations", response_class=HTMLResponse)
    async def integrations(request: Request) -> Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        return await show(request, session)

    @router.get("/integrations/connect/{platform}")
    async def connect(request: Request, platform: str) -> Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        if not session.can_write:
            return Response(
                "A viewer cannot connect accounts: ask an owner for the editor role.", 403
            )
        if platform not in {p.value for p in Platform}:
            return Response(f"Unknown platform {platform[:20]!r}.", 404)
        back = str(request.url_for("integrations"))
        try:
            link = await console.api.connect_link(session.api_key, platform, return_to=back)
        except ApiError as exc:
            alert = f"auth-service did not start the connection ({exc.status}): {exc.message}"
            return await show(request, session, alert=alert, status=_status(exc))
        return RedirectResponse(link, status_code=303)

    @router.post("/integrations/{integration_id}/{action}", response_class=HTMLResponse)
    async def act(
        request: Request,
        integration_id: str,
        action: str,
        *,
        csrf: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        if not same_token(session.csrf, csrf):
            return Response("The form expired or came from another site: reload it.", 403)
        if not session.can_write:
            return Response(
                "A viewer cannot change accounts: ask an owner for the editor role.", 403
            )
        if action not in DONE or not _ID.fullmatch(integration_id):
            return Response(f"Unknown action {action[:20]!r} or account id.", 404)
        try:
            if action == "refresh":
                await console.api.refresh_integration(session.api_key, integration_id)
            else:
                await console.api.disconnect_integration(session.api_key, integration_id)
        except ApiError as exc:
            alert = f"auth-service did not {action} the account ({exc.status}): {exc.message}"
            return await show(request, session, alert=alert, status=_status(exc))
        return RedirectResponse(f"/integrations?done={action}", status_code=303)

    return router


def returned(params: dict[str, str]) -> str | None:
    """What to say when the person comes back: from an action, or from auth-service at the end
    of a connection (`status`, `provider`, `integrations` or `error`)."""
    if params.get("done") in DONE:
        return DONE[params["done"]]
    status, provider = params.get("status"), params.get("provider", "")
    name = views.platform_name(provider) if provider in {p.value for p in Platform} else "The"
    if status == "connected":
        count = len([i for i in params.get("integrations", "").split(",") if i])
        accounts = "1 account" if count == 1 else f"{count} accounts"
        return f"{name} connected: {accounts}."
    if status == "error":
        code = params.get("error", "")
        reason = REFUSED.get(code, f"auth-service refused it ({code[:60] or 'no reason given'})")
        return f"{name} was not connected: {reason}."
    return None


def _status(exc: ApiError) -> int:
    return 502 if exc.status >= 500 else exc.status
