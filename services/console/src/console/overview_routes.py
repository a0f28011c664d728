"""Overview: `GET /overview?days=7|28|90`, the business as a whole over the period: published
posts with figures by platform (a server-drawn bar chart and a table), engagement totals, the
top posts, and the accounts that need attention. Two calls at once, whatever the history's size:
the scheduler's `GET /v1/analytics/summary` and auth-service's `GET /v1/integrations`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console import analytics, overview, views
from console.campaign_routes import scheduler_of
from console.client import ApiError

if TYPE_CHECKING:
    from console.app import Console


def overview_routes(console: Console) -> APIRouter:
    router = APIRouter()

    @router.get("/overview", response_class=HTMLResponse)
    async def overview_page(request: Request) -> Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        days, problem = overview.read_period(request.query_params)
        now = console.now()
        try:
            summary, accounts = await asyncio.gather(  # the two services at once
                scheduler_of(console).summary(session.api_key, overview.query(now, days)),
                console.api.integrations(session.api_key),
            )
        except ApiError as exc:
            return console.unavailable(request, session, "Overview", exc)
        attention = [r for r in views.integration_rows(accounts, now) if r.tone != "ok"]
        return console.page(
            request,
            "overview.html",
            422 if problem else 200,
            session=session,
            current="overview",
            days=days,
            periods=overview.PERIODS,
            problem=problem,
            summary=summary,
            totals=overview.totals(summary),
            rate=overview.engagement_rate(summary),
            columns=overview.columns(summary.platforms),
            chart=overview.chart(summary, views.platform_name),
            figure=overview.figure,
            attention=attention,
            names={a.integration_id: a.account_name or a.account_id for a in accounts},
            width=analytics.WIDTH,
            height=analytics.HEIGHT,
        )

    return router
