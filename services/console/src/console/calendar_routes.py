"""Calendar: `GET /calendar` shows a day or a week of posts in the business's zone, filtered by
platform, status and campaign, one bounded page (`calendar.PAGE_SIZE`) of the scheduler's list at
a time; `POST /posts/{id}/retry|cancel|schedule|reschedule` are the scheduler's own routes behind
CSRF-checked forms, and come back to the calendar saying what changed (a refused *Reschedule*
comes back with its problem at its field)."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Annotated, Any, cast, get_args
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console import calendar, compose, views
from console.client import ApiError, PostAction
from console.sessions import Session, same_token

if TYPE_CHECKING:
    from console.app import Console

DONE = {
    "posted": "The post is scheduled: here it is.",
    "retry": "Failed targets are being retried.",
    "cancel": "Cancelled.",
    "schedule": "The draft is scheduled.",
    "reschedule": "The post is moved: here it is on its new day.",
}
_POST_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def calendar_routes(console: Console) -> APIRouter:
    router = APIRouter()

    async def show(
        request: Request,
        session: Session,
        params: dict[str, str],
        *,
        alert: str | None = None,
        status: int = 200,
        moving: calendar.Moving | None = None,
    ) -> Response:
        zone = ZoneInfo(console.zone(session))
        view = calendar.read_view(params, console.now().astimezone(zone).date())
        try:
            page, accounts = await asyncio.gather(  # the two services at once
                console.api.find_posts(session.api_key, view.query(zone)),
                console.api.integrations(session.api_key),
            )
        except ApiError as exc:
            return console.unavailable(request, session, "Calendar", exc)
        rows = views.post_rows(page.items, accounts)
        done = DONE.get(params.get("done", ""))
        return console.page(
            request,
            "calendar.html",
            422 if view.problems and status == 200 else status,
            session=session,
            current="cal",
            view=view,
            days=calendar.by_day(rows, view, zone),
            actions=calendar.actions,
            movable=calendar.movable,
            moving=moving,
            input_value=lambda moment: calendar.input_value(moment, zone),
            statuses=calendar.STATUSES,
            next_cursor=page.next_cursor,
            page_size=calendar.PAGE_SIZE,
            back=view.link(),
            alert=alert,
            done=done,
        )

    @router.get("/calendar", response_class=HTMLResponse)
    async def calendar_page(request: Request) -> Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        return await show(request, session, dict(request.query_params))

    @router.post("/posts/{post_id}/{action}", response_class=HTMLResponse)
    async def act(
        request: Request,
        post_id: str,
        action: str,
        *,
        csrf: Annotated[str, Form(max_length=100)] = "",
        back: Annotated[str, Form(max_length=1000)] = "/calendar",
        publish_at: Annotated[str, Form(max_length=40)] = "",
    ) -> Response:
        session = _writer(console, request, csrf)
        if isinstance(session, Response):
            return session
        if action not in get_args(PostAction) or not _POST_ID.fullmatch(post_id):
            return Response(f"Unknown action {action[:20]!r} or post id.", 404)
        params = {k: v for k, v in parse_qsl(urlsplit(back).query) if k != "done"}
        if action == "reschedule":
            return await move(request, session, post_id, params, publish_at)
        body: dict[str, Any] | None = None
        if action == "schedule" and publish_at:
            local = compose.read_form([("when", "later"), ("publish_at", publish_at)])
            schedule = compose.to_body(local, [], console.zone(session))["schedule"]
            body = {"schedule": schedule}
        try:
            await console.api.act_on_post(session.api_key, post_id, cast(PostAction, action), body)
        except ApiError as exc:
            alert = f"The scheduler did not {action} the post ({exc.status}): {exc.message}"
            status = 502 if exc.status >= 500 else exc.status
            return await show(request, session, params, alert=alert, status=status)
        # Back to the view the form was on (only the calendar's own parameters travel).
        where = urlencode(params | {"done": action})
        return RedirectResponse(f"/calendar?{where}", status_code=303)

    async def move(
        request: Request, session: Session, post_id: str, params: dict[str, str], typed: str
    ) -> Response:
        """*Reschedule*: the new time read in the business's zone; any refusal (the console's
        own check, the scheduler's 422 at `publish_at`, its 409) is shown at the post's field."""
        body = calendar.reschedule_body(typed, console.zone(session), console.now())
        if isinstance(body, str):
            moving = calendar.Moving(post_id, typed, body)
            return await show(request, session, params, status=422, moving=moving)
        try:
            post = await console.api.act_on_post(session.api_key, post_id, "reschedule", body)
        except ApiError as exc:
            problem = "; ".join(v.message for v in exc.violations) or exc.message
            moving = calendar.Moving(post_id, typed, f"Not moved: {problem}")
            status = 502 if exc.status >= 500 else exc.status
            return await show(request, session, params, status=status, moving=moving)
        # The new day, in the view the form was on, with the post in sight.
        day = post.due_at.astimezone(ZoneInfo(console.zone(session))).date().isoformat()
        where = urlencode(params | {"day": day, "done": "reschedule"})
        return RedirectResponse(f"/calendar?{where}#post-{post_id}", status_code=303)

    return router


def _writer(console: Console, request: Request, csrf: str) -> Session | Response:
    """The signed-in person sending a genuine form who may change posts, or the answer."""
    session = console.signed_in(request)
    if session is None:
        return RedirectResponse("/sign-in", status_code=303)
    if not same_token(session.csrf, csrf):
        return Response("The form expired or came from another site: reload it.", 403)
    if not session.can_write:
        return Response("A viewer cannot change posts: ask an owner for the editor role.", 403)
    return session
