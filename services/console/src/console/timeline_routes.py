"""A post's timeline: `GET /posts/{id}/timeline`, everything that happened to the post, oldest
first, in the business's zone (the scheduler's `GET /v1/posts/{id}` and its history, read at
once). A retry shows as its own round: asked for, sent, and its outcome."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console import timeline
from console.client import ApiError

if TYPE_CHECKING:
    from console.app import Console

_POST_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def timeline_routes(console: Console) -> APIRouter:
    router = APIRouter()

    @router.get("/posts/{post_id}/timeline", response_class=HTMLResponse)
    async def post_timeline(request: Request, post_id: str) -> Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        if not _POST_ID.fullmatch(post_id):
            return Response("Not a post id.", 404)
        try:
            post, entries = await console.api.timeline(session.api_key, post_id)
        except ApiError as exc:
            return console.unavailable(request, session, "Timeline", exc)
        zone = ZoneInfo(console.zone(session))
        day = post.due_at.astimezone(zone).date().isoformat()
        return console.page(
            request,
            "timeline.html",
            session=session,
            current="cal",
            post=post,
            lines=timeline.lines(post, entries, zone),
            calendar=f"/calendar?view=day&day={day}#post-{post.post_id}",
        )

    return router
