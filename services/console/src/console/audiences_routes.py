"""Audiences: the business's WhatsApp contact lists with their size and how many opted in,
create one, open one to page through its contacts with their opt-in state, and import a CSV
into it through the scheduler's import route, whose row-by-row report the page shows. Every
form is CSRF-checked; viewers see the lists and no form (the scheduler refuses their writes
with 403 anyway)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.audiences_client import AudiencesApi, ImportReport
from console.client import ApiError
from console.sessions import Session, same_token
from herald.events import Violation

if TYPE_CHECKING:
    from console.app import Console

CONTACTS_PER_PAGE = 50
FIELDS = ("name", "description", "fields")  # the create form's, as the API names them
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_CURSOR = re.compile(r"^[A-Za-z0-9_=-]{1,512}$")
Csrf = Annotated[str, Form(max_length=100)]


def _signed(console: Console, request: Request, csrf: str | None = None) -> Session | Response:
    """The session, or where to go instead: to sign in, or a 403 for a forged form or a
    viewer's (every form here writes)."""
    session = console.signed_in(request)
    if session is None:
        return RedirectResponse("/sign-in", status_code=303)
    if csrf is not None and not same_token(session.csrf, csrf):
        return Response("The form expired or came from another site: reload it.", 403)
    if csrf is not None and not session.can_write:
        return Response("A viewer cannot change audiences: ask an owner for the editor role.", 403)
    return session


def _errors(problems: list[Violation]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for v in problems:
        name = v.path.split("[")[0].split(".")[0]
        errors.setdefault(name if name in FIELDS else "form", []).append(v.message)
    return errors


def audiences_api(console: Console) -> AudiencesApi:
    if console.audiences is None:
        msg = "the console was made without the scheduler's audience routes"
        raise RuntimeError(msg)
    return console.audiences


def mib(size: int) -> str:
    return f"{size / 1_048_576:g} MiB"


def audiences_routes(console: Console) -> APIRouter:
    router = APIRouter()

    async def listing(
        request: Request,
        session: Session,
        *,
        status: int = 200,
        errors: dict[str, list[str]] | None = None,
        form: dict[str, str] | None = None,
    ) -> Response:
        cursor = request.query_params.get("cursor")
        try:
            page = await audiences_api(console).audiences(
                session.api_key, cursor=cursor if cursor and _CURSOR.match(cursor) else None
            )
        except ApiError as exc:
            return console.unavailable(request, session, "Audiences", exc)
        return console.page(
            request,
            "audiences.html",
            status,
            session=session,
            current="aud",
            page=page,
            errors=errors or {},
            form=form or {"name": "", "description": "", "fields": ""},
        )

    @router.get("/audiences", response_class=HTMLResponse)
    async def audiences_page(request: Request) -> Response:
        session = _signed(console, request)
        return session if isinstance(session, Response) else await listing(request, session)

    @router.post("/audiences", response_class=HTMLResponse)
    async def create(
        request: Request,
        csrf: Csrf = "",
        name: Annotated[str, Form(max_length=200)] = "",
        description: Annotated[str, Form(max_length=2000)] = "",
        fields: Annotated[str, Form(max_length=1000)] = "",
    ) -> Response:
        session = _signed(console, request, csrf)
        if isinstance(session, Response):
            return session
        form = {"name": name, "description": description, "fields": fields}
        body: dict[str, object] = {
            "name": name.strip(),
            "fields": [f.strip() for f in fields.split(",") if f.strip()],
        }
        if description.strip():
            body["description"] = description.strip()
        try:
            made = await audiences_api(console).create_audience(session.api_key, body)
        except ApiError as exc:
            if exc.status == 422:
                problems = exc.violations or [Violation(path="form", message=exc.message, code="")]
                return await listing(
                    request, session, status=422, errors=_errors(problems), form=form
                )
            status = 502 if exc.status >= 500 else exc.status
            alert = f"The scheduler did not create the audience ({exc.status}): {exc.message}"
            return await listing(
                request, session, status=status, errors={"form": [alert]}, form=form
            )
        return RedirectResponse(f"/audiences/{made.audience_id}?done=created", status_code=303)

    return router


def audience_routes(console: Console) -> APIRouter:
    """One audience: its contacts page by page, and the CSV import with its report."""
    router = APIRouter()
    limit = console.settings.import_max_bytes

    async def detail(
        request: Request,
        session: Session,
        audience_id: str,
        *,
        status: int = 200,
        report: ImportReport | None = None,
        file_error: str | None = None,
        file_name: str | None = None,
    ) -> Response:
        cursor = request.query_params.get("cursor")
        cursor = cursor if cursor and _CURSOR.match(cursor) else None
        try:
            audience = await audiences_api(console).audience(session.api_key, audience_id)
            contacts = await audiences_api(console).contacts(
                session.api_key, audience_id, limit=CONTACTS_PER_PAGE, cursor=cursor
            )
        except ApiError as exc:
            return console.unavailable(request, session, "Audience", exc)
        return console.page(
            request,
            "audience.html",
            status,
            session=session,
            current="aud",
            audience=audience,
            contacts=contacts,
            paged=cursor is not None,
            per_page=CONTACTS_PER_PAGE,
            report=report,
            file_error=file_error,
            file_name=file_name,
            limit=mib(limit),
            created=request.query_params.get("done") == "created",
        )

    @router.get("/audiences/{audience_id}", response_class=HTMLResponse)
    async def audience_page(request: Request, audience_id: str) -> Response:
        session = _signed(console, request)
        if isinstance(session, Response):
            return session
        if not _ID.match(audience_id):
            return Response("Not an audience id.", 404)
        return await detail(request, session, audience_id)

    @router.post("/audiences/{audience_id}/import", response_class=HTMLResponse)
    async def import_csv(
        request: Request, audience_id: str, file: UploadFile | None = None, csrf: Csrf = ""
    ) -> Response:
        session = _signed(console, request, csrf)
        if isinstance(session, Response):
            return session
        if not _ID.match(audience_id):
            return Response("Not an audience id.", 404)
        name = (file.filename or "") if file is not None else ""
        data = await file.read(limit + 1) if file is not None else b""
        problem = _file_problem(name, data, limit)
        if problem is not None:
            status, message = problem
            return await detail(
                request, session, audience_id, status=status, file_error=message, file_name=name
            )
        try:
            report = await audiences_api(console).import_csv(session.api_key, audience_id, data)
        except ApiError as exc:
            if exc.status in (404, 401, 403) or exc.status >= 500:
                return console.unavailable(request, session, "Import", exc)
            found = "; ".join(f"{v.path}: {v.message}" for v in exc.violations) or exc.message
            message = f"The scheduler could not read {name or 'the file'} as CSV rows: {found}"
            return await detail(
                request, session, audience_id, status=exc.status, file_error=message, file_name=name
            )
        return await detail(request, session, audience_id, report=report, file_name=name)

    return router


def _file_problem(name: str, data: bytes, limit: int) -> tuple[int, str] | None:
    """What is wrong with the uploaded file before the scheduler sees it, with a status."""
    if not name and not data:
        return 422, "Choose a CSV file to import."
    if not data:
        return 422, f"{name} is empty: a CSV file starts with a header row (phone,opted_in,...)."
    if len(data) > limit:
        return 413, f"{name} is larger than {mib(limit)}: split it into smaller files."
    return None
