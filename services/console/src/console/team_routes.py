"""The Team page (owners: members, roles, removal, invitations with their links) and the
page an invitation link opens (set a name and a password, or enter yours), ADR 0024."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.client import ApiError
from console.people_client import IssuedInvitation
from console.people_routes import EXPIRED_FORM, ROLES, _people, _signed_in_as
from console.sessions import SIGN_IN_CSRF_COOKIE, Session, new_token, same_token

if TYPE_CHECKING:
    from console.app import Console

Csrf = Annotated[str, Form(max_length=100)]
TOKEN_MAX = 200


def team_routes(console: Console) -> APIRouter:
    router = APIRouter()

    async def team_page(
        request: Request,
        session: Session,
        status: int = 200,
        **context: Any,
    ) -> Response:
        try:
            team = await _people(console).team(session.api_key)
        except ApiError as exc:
            status = 502 if exc.status >= 500 else exc.status
            return console.page(
                request, "unavailable.html", status, title="Team", error=exc, session=session
            )
        context = {"issued": None, "link": None, "error": None, "field": None} | context
        return console.page(
            request,
            "team.html",
            status,
            team=team,
            roles=ROLES,
            session=session,
            current="team",
            **context,
        )

    def owner(request: Request) -> Session | Response:
        session = console.signed_in(request)
        if session is None:
            return RedirectResponse("/sign-in", status_code=303)
        if not session.is_owner:
            return console.page(
                request,
                "unavailable.html",
                403,
                title="Team",
                session=session,
                error=ApiError(403, "only an owner of the business manages its team"),
            )
        return session

    @router.get("/team", response_class=HTMLResponse)
    async def team(request: Request) -> Response:
        found = owner(request)
        return found if isinstance(found, Response) else await team_page(request, found)

    @router.post("/team/invitations", response_class=HTMLResponse)
    async def invite(
        request: Request,
        email: Annotated[str, Form(max_length=254)] = "",
        role: Annotated[str, Form(max_length=20)] = "",
        csrf: Csrf = "",
    ) -> Response:
        found = owner(request)
        if isinstance(found, Response):
            return found
        if not same_token(found.csrf, csrf):
            return await team_page(request, found, 403, error=EXPIRED_FORM)
        if role not in ROLES:
            return await team_page(request, found, 422, error="Choose a role.", field="role")
        try:
            issued: IssuedInvitation = await _people(console).invite(
                found.api_key, email.strip(), role
            )
        except ApiError as exc:
            return await team_page(request, found, exc.status, error=exc.message, field="email")
        link = str(request.url_for("invitation_page", token=issued.token))
        return await team_page(request, found, 201, issued=issued, link=link)

    @router.post("/team/members/{user_id}", response_class=HTMLResponse)
    async def change_member(
        request: Request,
        user_id: str,
        action: Annotated[str, Form(max_length=20)] = "",
        role: Annotated[str, Form(max_length=20)] = "",
        csrf: Csrf = "",
    ) -> Response:
        found = owner(request)
        if isinstance(found, Response):
            return found
        if not same_token(found.csrf, csrf):
            return await team_page(request, found, 403, error=EXPIRED_FORM)
        people = _people(console)
        try:
            if action == "remove":
                await people.remove(found.api_key, user_id)
            elif action == "role" and role in ROLES:
                await people.change_role(found.api_key, user_id, role)
            else:
                return await team_page(request, found, 422, error="Choose a role.")
        except ApiError as exc:
            return await team_page(request, found, exc.status, error=exc.message)
        return RedirectResponse("/team", status_code=303)

    return router


def invitation_routes(console: Console) -> APIRouter:
    router = APIRouter()

    def invitation_form(
        request: Request, token: str, status: int = 200, **context: Any
    ) -> Response:
        csrf = new_token()
        context = {"error": None, "field": None} | context
        response = console.page(
            request, "invitation.html", status, csrf=csrf, token=token, session=None, **context
        )
        console.cookie(response, SIGN_IN_CSRF_COOKIE, csrf)
        return response

    @router.get("/invitations/{token}", response_class=HTMLResponse, name="invitation_page")
    async def invitation_page(request: Request, token: str) -> Response:
        try:
            details = await _people(console).invitation(token[:TOKEN_MAX])
        except ApiError as exc:
            return invitation_form(request, token, exc.status, details=None, error=exc.message)
        return invitation_form(request, token, details=details)

    @router.post("/invitations/{token}", response_class=HTMLResponse)
    async def accept(
        request: Request,
        token: str,
        name: Annotated[str, Form(max_length=100)] = "",
        password: Annotated[str, Form(max_length=256)] = "",
        csrf: Csrf = "",
    ) -> Response:
        people = _people(console)
        try:
            details = await people.invitation(token[:TOKEN_MAX])
        except ApiError as exc:
            return invitation_form(request, token, exc.status, details=None, error=exc.message)
        if not same_token(request.cookies.get(SIGN_IN_CSRF_COOKIE), csrf):
            return invitation_form(request, token, 403, details=details, error=EXPIRED_FORM)
        try:
            address = request.client.host if request.client else "unknown"
            signed = await people.accept(token[:TOKEN_MAX], name, password, address=address)
        except ApiError as exc:
            field = "name" if exc.message.startswith("name") else "password"
            return invitation_form(
                request, token, exc.status, details=details, error=exc.message, field=field
            )
        return _signed_in_as(console, signed)

    return router
