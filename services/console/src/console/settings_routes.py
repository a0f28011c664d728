"""Settings (owners): the business's time zone, kept by auth-service (`GET/PATCH /v1/business`).
Every page shows and reads times in it; a business without one falls back to the console's
`HERALD_CONSOLE_TIME_ZONE`. The owner's own cookie is sealed again with the new zone in the
response, this console process shows it to every session of the business at once, and other
processes read it within a minute (`console.zones`, ADR 0024)."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.client import ApiError
from console.people_routes import EXPIRED_FORM, _people
from console.sessions import SESSION_COOKIE, Session, same_token

if TYPE_CHECKING:
    from console.app import Console


REGIONS = tuple(
    f"{r}/"
    for r in (
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    )
)


@cache
def zone_names() -> tuple[str, ...]:
    """The IANA zones this installation knows, by region then city, and UTC (no legacy aliases
    such as `US/Pacific` or `Etc/GMT+5`: they name the same zones twice, or confusingly)."""
    names = {n for n in available_timezones() if n.startswith(REGIONS)}
    return (*sorted(names), "UTC")


def known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return bool(name)


def settings_routes(console: Console) -> APIRouter:
    router = APIRouter()

    def owner(request: Request) -> Session | Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        if not session.is_owner:
            error = ApiError(403, "only an owner of the business changes its settings")
            return console.page(
                request, "unavailable.html", 403, title="Settings", session=session, error=error
            )
        return session

    def page(request: Request, session: Session, status: int = 200, **context: Any) -> Response:
        now_set = console.zones.zone(session)  # as read lately, else as sealed at sign-in
        context = {"error": None, "saved": False, "chosen": now_set or ""} | context
        return console.page(
            request,
            "settings.html",
            status,
            session=session,
            current="settings",
            zones=zone_names(),
            fallback=console.settings.time_zone,
            now_set=now_set,
            **context,
        )

    @router.get("/settings", response_class=HTMLResponse)
    async def settings_page(request: Request) -> Response:
        found = owner(request)
        if isinstance(found, Response):
            return found
        saved = request.query_params.get("done") == "zone"
        return page(request, found, saved=saved)

    @router.post("/settings/time-zone", response_class=HTMLResponse)
    async def set_zone(
        request: Request,
        timezone: Annotated[str, Form(max_length=64)] = "",
        csrf: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        found = owner(request)
        if isinstance(found, Response):
            return found
        if not same_token(found.csrf, csrf):
            return page(request, found, 403, error=EXPIRED_FORM, chosen=timezone)
        if not known_zone(timezone):
            error = f"Choose a time zone from the list ({timezone[:64]!r} is not one)."
            return page(request, found, 422, error=error, chosen=timezone)
        try:
            changed = await _people(console).set_time_zone(found.api_key, timezone)
        except ApiError as exc:
            status = exc.status if exc.status in (403, 422) else 502
            error = f"auth-service did not change it ({exc.status}): {exc.message}"
            return page(request, found, status, error=error, chosen=timezone)
        zone = changed.timezone or timezone
        business_id = found.business_id or changed.business_id
        console.zones.put(business_id, zone)
        # Sessions are sealed in browsers: this owner's is sealed again (same expiry and CSRF
        # token); everyone else's follows from `console.zones` within its minute.
        resealed = replace(found, zone=zone, business_id=business_id)
        response = RedirectResponse("/settings?done=zone", status_code=303)
        console.cookie(response, SESSION_COOKIE, console.sessions.seal(resealed))
        return response

    return router
