"""Broadcasts: the business's WhatsApp posts sent to an audience, newest first, each with its
progress and funnel. A broadcast being sent, or sent lately with receipts still to come,
re-reads itself every few seconds (htmx polls its card, `GET /broadcasts/{post_id}/card`; the
card of one that has ended and settled no longer asks to be polled, so polling stops);
without JavaScript a reload shows the same."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.audiences_client import AudiencesApi, WhatsAppPost
from console.audiences_routes import audiences_api
from console.broadcasts import BroadcastView, broadcast_target, broadcast_view
from console.client import ApiError

if TYPE_CHECKING:
    from console.app import Console

POSTS_PER_PAGE = 20  # WhatsApp posts read per page; those sent to an audience are shown
POLL_S = 3
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_CURSOR = re.compile(r"^[A-Za-z0-9_=-]{1,512}$")


async def _names(api: AudiencesApi, api_key: str) -> dict[str, str]:
    """Audience names by id (the first page of audiences: a name missing shows the id)."""
    page = await api.audiences(api_key)
    return {a.audience_id: a.name for a in page.items}


async def _with_counts(
    api: AudiencesApi, api_key: str, posts: list[WhatsAppPost]
) -> list[WhatsAppPost]:
    """The broadcasts among `posts`, each read on its own for its delivery counts."""
    broadcasts = [p for p in posts if broadcast_target(p) is not None]
    return list(await asyncio.gather(*(api.whatsapp_post(api_key, p.post_id) for p in broadcasts)))


def broadcasts_routes(console: Console) -> APIRouter:
    router = APIRouter()

    @router.get("/broadcasts", response_class=HTMLResponse)
    async def broadcasts_page(request: Request) -> Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        cursor = request.query_params.get("cursor")
        cursor = cursor if cursor and _CURSOR.match(cursor) else None
        api = audiences_api(console)
        try:
            names = await _names(api, session.api_key)
            page = await api.whatsapp_posts(session.api_key, limit=POSTS_PER_PAGE, cursor=cursor)
            posts = await _with_counts(api, session.api_key, page.items)
        except ApiError as exc:
            return console.unavailable(request, session, "Broadcasts", exc)
        now = console.now()
        views = [v for p in posts if (v := broadcast_view(p, names, now)) is not None]
        return console.page(
            request,
            "broadcasts.html",
            session=session,
            current="bc",
            broadcasts=views,
            next_cursor=page.next_cursor,
            paged=cursor is not None,
            poll_s=POLL_S,
        )

    @router.get("/broadcasts/{post_id}/card", response_class=HTMLResponse)
    async def card(request: Request, post_id: str) -> Response:
        """One broadcast's card, for the page's polling (htmx swaps it in place)."""
        session = console.signed_in(request)
        if session is None:  # htmx follows this header with a whole-page visit
            return Response(status_code=200, headers={"HX-Redirect": "/sign-in"})
        if not _ID.match(post_id):
            return Response("Not a post id.", 404)
        api = audiences_api(console)
        try:
            post = await api.whatsapp_post(session.api_key, post_id)
            names = await _names(api, session.api_key)
        except ApiError as exc:
            status = 502 if exc.status >= 500 else exc.status
            return Response(f"The scheduler did not answer ({exc.status}): {exc.message}", status)
        view: BroadcastView | None = broadcast_view(post, names, console.now())
        if view is None:
            return Response("That post does not broadcast to an audience.", 404)
        return console.page(request, "broadcast_card.html", session=session, b=view, poll_s=POLL_S)

    return router
