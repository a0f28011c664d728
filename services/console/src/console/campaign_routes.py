"""Campaigns: `GET /campaigns` lists the business's campaigns (the scheduler's `GET
/v1/campaigns`, one call) with each recurrence in words, its next occurrence, its posts so far
and a link to them on the calendar; `POST /campaigns/{id}/end` is the scheduler's own end route
behind a CSRF-checked form (its future posts cancelled unless kept). Compose creates them
(`compose_routes`, `console.campaigns`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console import campaigns
from console.client import ApiError
from console.scheduler_client import Campaign, SchedulerApi
from console.sessions import same_token

if TYPE_CHECKING:
    from console.app import Console

_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
DONE = {
    "created": "The campaign is created. The scheduler creates its posts up to a week ahead, "
    "within minutes: find them on the calendar through its link.",
    "ended": "The campaign has ended: it creates no more posts.",
}


def scheduler_of(console: Console) -> SchedulerApi:
    if console.scheduler is None:
        raise ApiError(503, "this console has no connection to the scheduler's campaign routes")
    return console.scheduler


def campaign_routes(console: Console) -> APIRouter:
    router = APIRouter()

    def rows(found: list[Campaign]) -> list[tuple[Campaign, campaigns.Described | None]]:
        now = console.now()
        described = []
        for c in sorted(found, key=lambda c: (c.status != "active", c.name.lower())):
            r = c.recurrence
            said = (
                None
                if r is None
                else campaigns.describe(r.rule, r.timezone, r.starts_at, c.created_at, now)
            )
            described.append((c, said))
        return described

    @router.get("/campaigns", response_class=HTMLResponse)
    async def campaigns_page(request: Request) -> Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        try:
            found = await scheduler_of(console).campaigns(session.api_key)
        except ApiError as exc:
            return console.unavailable(request, session, "Campaigns", exc)
        done = DONE.get(request.query_params.get("done", ""))
        cancelled = request.query_params.get("cancelled", "")
        if done and cancelled.isdigit():
            done += f" {cancelled} future post{'s' if cancelled != '1' else ''} cancelled."
        return console.page(
            request,
            "campaigns.html",
            session=session,
            current="campaigns",
            rows=rows(found),
            done=done,
        )

    @router.post("/campaigns/{campaign_id}/end", response_class=HTMLResponse)
    async def end(
        request: Request,
        campaign_id: str,
        *,
        csrf: Annotated[str, Form(max_length=100)] = "",
        keep_posts: Annotated[str, Form(max_length=10)] = "",
    ) -> Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        if not same_token(session.csrf, csrf):
            return Response("The form expired or came from another site: reload it.", 403)
        if not session.can_write:
            return Response(
                "A viewer cannot end a campaign: ask an owner for the editor role.", 403
            )
        if not _ID.fullmatch(campaign_id):
            return Response("Not a campaign id.", 404)
        try:
            ended = await scheduler_of(console).end_campaign(
                session.api_key, campaign_id, keep_posts=keep_posts == "on"
            )
        except ApiError as exc:
            return console.unavailable(request, session, "Campaigns", exc)
        cancelled = ended.cancelled_posts or 0
        return RedirectResponse(
            f"/campaigns?done=ended&cancelled={cancelled}#campaign-{campaign_id}", status_code=303
        )

    return router
