"""Analytics of one post: `GET /posts/{id}/analytics`, each published target's latest figures
and a small chart of one figure by the post's age (or a WhatsApp post's delivery funnel), from
the scheduler's `GET /v1/posts/{id}/analytics` (one call); and of one account:
`GET /integrations/{id}/analytics`, its figures by day over the last 28 days, from
`GET /v1/analytics/accounts/{id}` (one call)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console import analytics
from console.client import ApiError

if TYPE_CHECKING:
    from console.app import Console

_POST_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def analytics_routes(console: Console) -> APIRouter:
    router = APIRouter()

    @router.get("/posts/{post_id}/analytics", response_class=HTMLResponse)
    async def post_analytics(request: Request, post_id: str) -> Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        if not _POST_ID.fullmatch(post_id):
            return Response("Not a post id.", 404)
        try:
            found = await console.api.post_analytics(session.api_key, post_id)
        except ApiError as exc:
            return console.unavailable(request, session, "Analytics", exc)
        return console.page(
            request,
            "analytics.html",
            session=session,
            current="cal",
            post=found,
            charts={t.target_id: analytics.chart(t) for t in found.targets},
            age=analytics.age,
            width=analytics.WIDTH,
            height=analytics.HEIGHT,
        )

    @router.get("/integrations/{integration_id}/analytics", response_class=HTMLResponse)
    async def account_analytics(request: Request, integration_id: str) -> Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        if not _POST_ID.fullmatch(integration_id):
            return Response("Not an integration id.", 404)
        try:
            found = await console.api.account_analytics(session.api_key, integration_id)
        except ApiError as exc:
            return console.unavailable(request, session, "Account analytics", exc)
        return console.page(
            request,
            "account_analytics.html",
            session=session,
            current="int",
            account=found,
            chart=analytics.account_chart(found),
            width=analytics.WIDTH,
            height=analytics.HEIGHT,
        )

    return router
