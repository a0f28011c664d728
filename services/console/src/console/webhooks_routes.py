"""Webhooks: the business's endpoints (create, enable, disable, delete, rotate the secret) and
each one's delivery log with redeliver, through the scheduler's `/v1/webhooks` routes (ADR 0021).
Every form is CSRF-checked. A new secret (create, rotate) is shown once, on the answer to that
form, and kept nowhere by the console; every other form redirects back saying what it did."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.client import ApiError
from console.sessions import Session, same_token
from herald.events import Violation
from herald.notices import WEBHOOK_TYPES

if TYPE_CHECKING:
    from console.app import Console

DELIVERY_LIMIT = 50  # the newest deliveries of an endpoint on one page
DONE = {
    "enable": "The endpoint is enabled.",
    "disable": "The endpoint is disabled: Herald sends it nothing until it is enabled.",
    "delete": "The endpoint is deleted.",
    "redeliver": "The delivery is sent again now; its attempts show here.",
}
FIELDS = ("url", "event_types", "description")  # the create form's, as the API names them
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
Csrf = Annotated[str, Form(max_length=100)]


def _signed(console: Console, request: Request, csrf: str | None = None) -> Session | Response:
    """The session, or where to go instead: to sign in, or a 403 for a forged form or a
    viewer's (every form here writes)."""
    session = console.signed_in(request)
    if session is None:
        return RedirectResponse("/sign-in", status_code=303)
    if csrf is not None and not same_token(session.csrf, csrf):
        return Response("The form expired or came from another site: reload it.", 403)
    if csrf is not None and not session.can_write:
        return Response("A viewer cannot change webhooks: ask an owner for the editor role.", 403)
    return session


def webhooks_routes(console: Console) -> APIRouter:
    router = APIRouter()
    types = sorted(WEBHOOK_TYPES)

    async def listing(
        request: Request,
        session: Session,
        *,
        status: int = 200,
        secret: tuple[str, str] | None = None,
        alert: str | None = None,
        problems: list[Violation] | None = None,
        form: Mapping[str, object] | None = None,
    ) -> Response:
        try:
            endpoints = await console.api.endpoints(session.api_key)
        except ApiError as exc:
            return console.unavailable(request, session, "Webhooks", exc)
        errors: dict[str, list[str]] = {}
        for v in problems or []:
            name = v.path.split("[")[0].split(".")[0]
            errors.setdefault(name if name in FIELDS else "form", []).append(v.message)
        return console.page(
            request,
            "webhooks.html",
            status,
            session=session,
            current="hooks",
            endpoints=endpoints,
            types=types,
            secret=secret,
            alert=alert,
            errors=errors,
            form=form or {"url": "", "event_types": [], "description": ""},
            done=DONE.get(request.query_params.get("done", "")),
        )

    @router.get("/webhooks", response_class=HTMLResponse)
    async def webhooks_page(request: Request) -> Response:
        session = _signed(console, request)
        return session if isinstance(session, Response) else await listing(request, session)

    @router.post("/webhooks", response_class=HTMLResponse)
    async def create(
        request: Request,
        csrf: Csrf = "",
        url: Annotated[str, Form(max_length=2048)] = "",
        event_types: Annotated[list[str] | None, Form()] = None,
        description: Annotated[str, Form(max_length=500)] = "",
    ) -> Response:
        session = _signed(console, request, csrf)
        if isinstance(session, Response):
            return session
        chosen = [t for t in event_types or [] if t]
        body: dict[str, object] = {"url": url.strip(), "event_types": chosen}
        if description.strip():
            body["description"] = description.strip()
        try:
            endpoint, secret = await console.api.create_endpoint(session.api_key, body)
        except ApiError as exc:
            form = {"url": url, "event_types": chosen, "description": description}
            if exc.status == 422:
                problems = exc.violations or [Violation(path="form", message=exc.message, code="")]
                return await listing(request, session, status=422, problems=problems, form=form)
            alert = f"The scheduler did not add the endpoint ({exc.status}): {exc.message}"
            status = 502 if exc.status >= 500 else exc.status
            return await listing(request, session, status=status, alert=alert, form=form)
        return await listing(request, session, status=201, secret=(endpoint.url, secret))

    @router.post("/webhooks/{endpoint_id}/{action}", response_class=HTMLResponse)
    async def change(request: Request, endpoint_id: str, action: str, csrf: Csrf = "") -> Response:
        session = _signed(console, request, csrf)
        if isinstance(session, Response):
            return session
        if action not in ("enable", "disable", "delete", "rotate") or not _ID.match(endpoint_id):
            return Response(f"Unknown webhook action {action[:20]!r} or endpoint id.", 404)
        key = session.api_key
        try:
            if action == "rotate":
                secret = await console.api.rotate_secret(key, endpoint_id)
                return await listing(request, session, secret=(endpoint_id, secret))
            if action == "delete":
                await console.api.delete_endpoint(key, endpoint_id)
            else:
                await console.api.update_endpoint(key, endpoint_id, {"enabled": action == "enable"})
        except ApiError as exc:
            alert = f"The scheduler did not {action} the endpoint ({exc.status}): {exc.message}"
            status = 502 if exc.status >= 500 else exc.status
            return await listing(request, session, status=status, alert=alert)
        return RedirectResponse(f"/webhooks?done={action}", status_code=303)

    return router


def delivery_routes(console: Console) -> APIRouter:
    """An endpoint's delivery log, newest first, and redeliver."""
    router = APIRouter()

    @router.get("/webhooks/{endpoint_id}/deliveries", response_class=HTMLResponse)
    async def deliveries(request: Request, endpoint_id: str) -> Response:
        session = _signed(console, request)
        if isinstance(session, Response):
            return session
        if not _ID.match(endpoint_id):
            return Response("Not a webhook endpoint id.", 404)
        try:
            found = await console.api.deliveries(session.api_key, endpoint_id, limit=DELIVERY_LIMIT)
        except ApiError as exc:
            return console.unavailable(request, session, "Webhook deliveries", exc)
        return console.page(
            request,
            "webhook_deliveries.html",
            session=session,
            current="hooks",
            endpoint_id=endpoint_id,
            deliveries=found,
            limit=DELIVERY_LIMIT,
            done=DONE.get(request.query_params.get("done", "")),
        )

    @router.post("/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver")
    async def redeliver(
        request: Request, endpoint_id: str, delivery_id: str, csrf: Csrf = ""
    ) -> Response:
        session = _signed(console, request, csrf)
        if isinstance(session, Response):
            return session
        if not (_ID.match(endpoint_id) and _ID.match(delivery_id)):
            return Response("Not a webhook endpoint or delivery id.", 404)
        try:
            await console.api.redeliver(session.api_key, delivery_id)
        except ApiError as exc:
            status = 502 if exc.status >= 500 else exc.status
            return Response(f"The scheduler did not redeliver it: {exc.message}", status)
        where = f"/webhooks/{endpoint_id}/deliveries?done=redeliver"
        return RedirectResponse(where, status_code=303)

    return router
