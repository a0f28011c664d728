"""Compose: `GET /compose` shows the form, `POST /compose` checks it (the Check button) or
submits it to the scheduler (Schedule), re-rendering it with every violation at its field. The
checks are the API's own (`console.compose.check`), and a 422 the scheduler answers anyway is
placed at the fields it names the same way. "As a recurring campaign" submits the post as the
template of a new campaign (`POST /v1/campaigns`; `console.campaigns` checks its recurrence and
previews its next occurrences) and leads to the Campaigns page. A WhatsApp account's audience
is chosen by name from a select of the scheduler's audiences. Every time is read and shown in
the session's zone (`Console.zone`)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console import campaigns, compose, preview
from console.audiences_client import Audience
from console.client import ApiError, Integration
from console.compose_campaign import CampaignMaker
from console.sessions import Session, new_token, same_token
from herald.events import Violation

if TYPE_CHECKING:
    from console.app import Console

USABLE = ("active", "expiring")  # accounts a post can go to; the others need reconnecting
AUDIENCE_PAGES = 5  # at most 500 audiences offered (the scheduler's pages hold 100)


async def _posted(
    console: Console, request: Request
) -> tuple[Session, compose.Draft, campaigns.Recurring] | Response:
    """The signed-in writer, the draft the form holds and its recurrence fields, or the answer
    to give instead."""
    session = console.signed_in(request)
    if session is None:
        return RedirectResponse("/sign-in", status_code=303)
    form = await request.form()
    fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    if not same_token(session.csrf, dict(fields).get("csrf")):
        return Response("The form expired or came from another site: reload it.", 403)
    if not session.can_write:
        return Response("A viewer cannot post: ask an owner for the editor role.", 403)
    draft = compose.read_form(fields)
    draft.token = draft.token or new_token()
    today = console.now().astimezone(ZoneInfo(console.zone(session))).date()
    return session, draft, campaigns.read(fields, today)


async def _usable(console: Console, session: Session) -> list[Integration]:
    found = await console.api.integrations(session.api_key)
    ordered = sorted(found, key=lambda i: (i.platform, i.account_name or i.account_id))
    return [i for i in ordered if i.status in USABLE]


async def _audiences(
    console: Console, session: Session, accounts: list[Integration]
) -> list[Audience] | None:
    """The business's audiences for a WhatsApp account's select (the scheduler's
    `GET /v1/audiences`, page by page); None when it could not say, and the form then asks for
    an id as text rather than failing the page."""
    if console.audiences is None or not any(a.platform == "whatsapp" for a in accounts):
        return []
    found: list[Audience] = []
    cursor: str | None = None
    try:
        for _ in range(AUDIENCE_PAGES):
            page = await console.audiences.audiences(session.api_key, cursor=cursor)
            found += page.items
            cursor = page.next_cursor
            if cursor is None:
                break
    except ApiError:
        return None
    return sorted(found, key=lambda a: a.name.casefold())


def compose_routes(console: Console) -> APIRouter:
    router = APIRouter()
    maker = CampaignMaker(console)

    async def render(
        request: Request,
        session: Session,
        accounts: list[Integration],
        draft: compose.Draft,
        *,
        problems: list[Violation] | None = None,
        alert: str | None = None,
        checked: bool = False,
        status: int = 200,
        live: bool = False,
        recurring: campaigns.Recurring | None = None,
        rule: campaigns.Checked | None = None,
    ) -> Response:
        # The whole form, with the audiences to choose from, or the live check's fragment.
        problems = problems or []
        audiences = [] if live else await _audiences(console, session, accounts)
        return console.page(
            request,
            "compose_live.html" if live else "compose.html",
            status,
            live=live,
            fields=compose.field_names(accounts) + campaigns.FIELDS,
            recurring=recurring or campaigns.Recurring(rec_start=maker.today(session)),
            occurrences=maker.occurrences(rule, session),
            frequencies=campaigns.FREQUENCY_WORDS,
            session=session,
            current="compose",
            accounts=accounts,
            draft=draft,
            problems=[(campaigns.field_of(v.path, draft), v.message) for v in problems],
            errors=campaigns.by_field(problems, draft),
            previews=preview.previews(draft, accounts),
            alert=alert,
            checked=checked and not problems,
            privacy=compose.PRIVACY_WORDS,
            media_rows=compose.MEDIA_ROWS,
            business_zone=console.zones.zone(session) is not None,
            audiences=audiences,
        )

    @router.get("/compose", response_class=HTMLResponse)
    async def compose_page(request: Request) -> Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        try:
            accounts = await _usable(console, session) if session.can_write else []
        except ApiError as exc:
            return console.unavailable(request, session, "Compose", exc)
        status = 200 if session.can_write else 403
        draft = compose.Draft(token=new_token())
        return await render(request, session, accounts, draft, status=status)

    @router.post("/compose/check", response_class=HTMLResponse)
    async def live_check(request: Request) -> Response:
        """The live check (htmx, as the person types): the same checks as the Check button,
        answered with the summary, every field's messages and the previews."""
        found = await _posted(console, request)
        if isinstance(found, Response):
            return found
        session, draft, recurring = found
        try:
            accounts = await _usable(console, session)
        except ApiError as exc:
            return Response(f"Herald could not answer ({exc.status}): {exc.message}", 502)
        problems, rule = maker.checks(draft, recurring, accounts, session)
        return await render(
            request,
            session,
            accounts,
            draft,
            problems=problems,
            checked=True,
            live=True,
            recurring=recurring,
            rule=rule,
        )

    @router.post("/compose", response_class=HTMLResponse)
    async def compose_post(request: Request) -> Response:
        found = await _posted(console, request)
        if isinstance(found, Response):
            return found
        session, draft, recurring = found
        try:
            accounts = await _usable(console, session)
        except ApiError as exc:
            return console.unavailable(request, session, "Compose", exc)
        action = (await request.form()).get("action")
        draft.when = "campaign" if action == "campaign" else draft.when  # its own button
        problems, rule = maker.checks(draft, recurring, accounts, session)
        if action not in ("submit", "campaign") or problems:
            return await render(
                request,
                session,
                accounts,
                draft,
                problems=problems,
                checked=True,
                status=422 if problems else 200,
                recurring=recurring,
                rule=rule,
            )
        if rule is None:
            return await submit(request, session, accounts, draft)
        try:
            made = await maker.make(session, accounts, draft, recurring, rule)
        except ApiError as exc:
            problems = exc.violations if exc.status == 422 else []
            alert = f"The scheduler did not take the campaign ({exc.status}): {exc.message}"
            return await render(
                request,
                session,
                accounts,
                draft,
                problems=problems,
                alert=None if problems else alert,
                status=502 if exc.status >= 500 else exc.status,
                recurring=recurring,
                rule=rule,
            )
        return RedirectResponse(f"/campaigns?done=created#campaign-{made}", status_code=303)

    async def submit(
        request: Request, session: Session, accounts: list[Integration], draft: compose.Draft
    ) -> Response:
        zone = console.zone(session)
        body = compose.to_body(draft, accounts, zone)
        try:
            post = await console.api.submit_post(
                session.api_key, body, idempotency_key=f"console:{draft.token}"
            )
        except ApiError as exc:
            if exc.status == 422 and exc.violations:
                return await render(
                    request, session, accounts, draft, problems=exc.violations, status=422
                )
            alert = f"The scheduler did not take the post ({exc.status}): {exc.message}"
            status = 502 if exc.status >= 500 else exc.status
            return await render(request, session, accounts, draft, alert=alert, status=status)
        day = post.due_at.astimezone(ZoneInfo(zone)).date().isoformat()
        where = urlencode({"view": "day", "day": day, "done": "posted"})
        return RedirectResponse(f"/calendar?{where}#post-{post.post_id}", status_code=303)

    return router
