"""The console's HTTP app: sign-in (email and password, or the business's API key; ADR 0024),
the pages, the Team page, sign-out here and everywhere. Pages are rendered on the server
(Jinja2) and work without JavaScript (ADR 0022)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from prometheus_client import CollectorRegistry

from console import people_routes, routes, settings_routes, team_routes, views
from console.analytics_routes import analytics_routes
from console.audiences_client import AudiencesApi, HttpAudiencesApi
from console.audiences_routes import audience_routes, audiences_routes
from console.broadcasts_routes import broadcasts_routes
from console.calendar_routes import calendar_routes
from console.campaign_routes import campaign_routes
from console.client import ApiError, HeraldApi, HttpHeraldApi
from console.compose_routes import compose_routes
from console.integrations_routes import integrations_routes
from console.keys import keyring
from console.overview_routes import overview_routes
from console.people_client import HttpPeopleApi, PeopleApi
from console.scheduler_client import HttpSchedulerApi, SchedulerApi
from console.sessions import SESSION_COOKIE, Session, Sessions
from console.settings import Settings
from console.timeline_routes import timeline_routes
from console.webhooks_routes import delivery_routes, webhooks_routes
from console.zones import BusinessZones, install_zone_refresh
from herald.bodylimits import BodyLimit, install_body_limits
from herald.service import add_operational_routes

SERVICE = "console"
HERE = Path(__file__).parent
# Everything from this origin only: no inline script, no framing (clickjacking).
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass
class Console:
    """What the routes share: settings, sessions, templates, the APIs and the clock."""

    settings: Settings
    templates: Jinja2Templates
    sessions: Sessions
    now: Callable[[], datetime]
    apis: dict[str, HeraldApi] = field(default_factory=dict)
    people: PeopleApi | None = None  # auth-service's people routes (ADR 0024)
    audiences: AudiencesApi | None = None  # the scheduler's audiences and WhatsApp posts
    scheduler: SchedulerApi | None = None  # the scheduler's campaigns and analytics summary
    zones: BusinessZones = field(default_factory=BusinessZones)  # each business's, read lately

    @property
    def api(self) -> HeraldApi:
        return self.apis["api"]

    def zone(self, session: Session | None) -> str:
        """The IANA zone a session's pages show and read times in: its business's (as read
        from auth-service within the last minute, else as sealed in the cookie at sign-in), or
        the console's `HERALD_CONSOLE_TIME_ZONE` for a business without one."""
        return (self.zones.zone(session) if session else None) or self.settings.time_zone

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        # Every page and fragment renders in its session's zone (the `local` filter reads it).
        context.setdefault("zone", self.zone(context.get("session")))
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    def unavailable(
        self, request: Request, session: Session, title: str, exc: ApiError
    ) -> HTMLResponse:
        """A page whose API did not answer, or refused: says so, with the API's message."""
        status = 502 if exc.status >= 500 else exc.status
        page = self.page(
            request, "unavailable.html", status, title=title, error=exc, session=session
        )
        if exc.status == 401:  # the session ended in auth-service: so does this cookie
            page.delete_cookie(SESSION_COOKIE, path="/")
        return page

    def cookie(self, response: Response, key: str, value: str) -> None:
        response.set_cookie(
            key,
            value,
            httponly=True,
            secure=self.settings.secure_cookies,
            samesite="strict",
            path="/",
            max_age=self.settings.session_ttl_s,
        )

    def signed_in(self, request: Request) -> Session | None:
        return self.sessions.get(request.cookies.get(SESSION_COOKIE))


def create_app(
    settings: Settings,
    *,
    api: HeraldApi | None = None,
    people: PeopleApi | None = None,
    audiences: AudiencesApi | None = None,
    scheduler: SchedulerApi | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    zones: BusinessZones | None = None,
) -> FastAPI:
    """`api` is the services' public APIs; by default over HTTP to `auth_url`/`scheduler_url`.
    Raises ConfigurationError when the session keyring is unfit (`console.keys`)."""
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals |= {"platform_name": views.platform_name, "zone": settings.time_zone}
    templates.env.filters["local"] = pass_context(
        lambda context, value: views.local_time(value, ZoneInfo(context["zone"]))
    )
    # Refuses (ConfigurationError) a keyring unfit for this run before anything is built.
    sessions = Sessions(keyring(settings), settings.session_ttl_s)
    console = Console(settings, templates, sessions, now)
    console.zones = zones or console.zones  # a test's, on its own clock
    if api is not None:
        console.apis["api"] = api
        console.people = people
        console.audiences = audiences
        console.scheduler = scheduler

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if api is not None:
            yield
            return
        async with httpx.AsyncClient(timeout=httpx.Timeout(settings.api_timeout_s)) as http:
            console.apis["api"] = HttpHeraldApi(
                http, auth_url=settings.auth_url, scheduler_url=settings.scheduler_url
            )
            console.people = HttpPeopleApi(http, auth_url=settings.auth_url)
            console.audiences = HttpAudiencesApi(http, scheduler_url=settings.scheduler_url)
            console.scheduler = HttpSchedulerApi(http, scheduler_url=settings.scheduler_url)
            yield

    app = FastAPI(title="Herald console", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    # Ready when it serves: a page says when auth-service or the scheduler does not answer
    # (unavailable.html), so a blip there does not take every console out of service, and the
    # console may start before them.
    add_operational_routes(app, service=SERVICE, checks={}, registry=CollectorRegistry())
    # A form that never finishes arriving gets a 408. A CSV import may be larger than other
    # forms: the route itself refuses a file over `import_max_bytes` with its page saying so,
    # for files up to twice that; only a larger body gets this middleware's bare 413.
    imports = BodyLimit(2 * settings.import_max_bytes + 65_536, settings.import_timeout_s)
    install_body_limits(app, settings.http, {"/audiences/{audience_id}/import": imports})
    install_zone_refresh(app, console)  # a changed zone reaches every session within a minute

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    app.include_router(people_routes.sign_in_routes(console))
    app.include_router(people_routes.sign_out_routes(console))
    app.include_router(team_routes.team_routes(console))
    app.include_router(team_routes.invitation_routes(console))
    app.include_router(settings_routes.settings_routes(console))
    app.include_router(integrations_routes(console))
    app.include_router(routes.page_routes(console))
    app.include_router(compose_routes(console))
    app.include_router(calendar_routes(console))
    app.include_router(analytics_routes(console))
    app.include_router(timeline_routes(console))
    app.include_router(campaign_routes(console))
    app.include_router(overview_routes(console))
    app.include_router(webhooks_routes(console))
    app.include_router(delivery_routes(console))
    app.include_router(audiences_routes(console))
    app.include_router(audience_routes(console))
    app.include_router(broadcasts_routes(console))
    return app
