"""`/v1/oauth/{provider}`: connect (with the business's API key), the start link (the person's
browser: a cookie binds the flow to it, then on to the platform) and the callback (the same
browser, cookie shown). The start link's and the callback's refusals, and the callback's
success, answer a plain page, JSON (`Accept: application/json`), or a redirect to
`HERALD_AUTH_OAUTH__COMPLETION_URL`; never third-party content, never a referrer.
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any, Literal
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from auth_service.api.common import (
    DepsDep,
    api_key_scheme,
    error_responses,
    require_key,
)
from auth_service.api.schemas import CallbackResponse, ConnectResponse, ErrorBody
from auth_service.api.strict import StrictRoute
from auth_service.api.views import health
from auth_service.domain import ApiKeyRecord, AuthServer, Integration, browser_cookie_name, digest
from auth_service.errors import AuthServiceError
from auth_service.handlers.base import Deps
from auth_service.handlers.keys import authenticate
from auth_service.handlers.oauth import (
    CallbackInput,
    complete_callback,
    open_in_browser,
    return_to_of,
    start_connect,
)
from herald.topics import Platform

router = APIRouter(prefix="/v1/oauth", tags=["oauth"], route_class=StrictRoute)
Writer = Annotated[ApiKeyRecord, Depends(require_key("integrations:write"))]


class CallbackQuery(BaseModel):
    """What the platform's redirect carries (other parameters, like TikTok's `scopes`, are
    ignored)."""

    state: str | None = Field(default=None, max_length=2048)
    code: str | None = Field(default=None, max_length=2048)
    error: str | None = Field(default=None, max_length=2048)
    error_reason: str | None = Field(default=None, max_length=2048)
    error_description: str | None = Field(default=None, max_length=2048)


def document_state_required(app: FastAPI) -> None:
    """The start link and the callback refuse a request without `state` (400 `missing_state`,
    a page for a browser): the document marks it required, though it is parsed as optional so
    that the route itself answers that refusal rather than the framework's 422."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        for link in ("start", "callback"):
            operation = document["paths"][f"{router.prefix}/{{provider}}/{link}"]["get"]
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "state" and parameter["in"] == "query":
                    parameter["required"] = True
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


_PAGE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
}


@router.get(
    "/{provider}/connect",
    response_model=ConnectResponse,
    responses={
        302: {"description": "With redirect=true: to the platform's authorize page"},
        **error_responses(400, 401, 403),
    },
)
async def connect(
    provider: Platform,
    deps: DepsDep,
    key: Writer,
    *,
    login: Annotated[
        Literal["facebook", "instagram"] | None,
        Query(
            description="Instagram only: Business Login for Instagram (default) or Facebook "
            "Login; other providers have one login and ignore it."
        ),
    ] = None,
    redirect: Annotated[bool, Query(description="Answer 302 to the start link.")] = False,
    return_to: Annotated[
        str | None,
        Query(
            max_length=2048,
            description="Where the person's browser goes when the flow ends, with ?status=... "
            "(as the completion URL): one of the installation's HERALD_AUTH_OAUTH__RETURN_URLS "
            "or below one; others are refused (400 return_to_not_allowed).",
        ),
    ] = None,
) -> Response:
    started = await start_connect(
        deps, key.business_id, provider.value, AuthServer(login) if login else None, return_to
    )
    if redirect:
        return RedirectResponse(started.start_url, status_code=302, headers=_PAGE_HEADERS)
    body = ConnectResponse(
        provider=started.provider,
        login=started.auth_server.value,
        authorize_url=started.start_url,
        state_expires_at=started.expires_at,
    )
    return JSONResponse(body.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.get(
    "/{provider}/start",
    responses={
        **error_responses(404),
        302: {"description": "To the platform's authorize page, with the browser's cookie set"},
        400: {"model": ErrorBody, "content": {"text/html": {}}, "description": "Refused"},
    },
)
async def start(
    provider: Platform,
    request: Request,
    deps: DepsDep,
    state: Annotated[str, Query(max_length=2048, description="From the start link.")] = "",
) -> Response:
    """The start link `connect` answers, opened by the person's browser: binds the connection
    to this browser (an HttpOnly, SameSite=Lax cookie scoped to this provider's OAuth paths,
    Secure over https, living as long as the state) and redirects to the platform."""
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        started = await open_in_browser(deps, provider.value, state, request.cookies)
    except AuthServiceError as exc:
        if exc.status != 400:
            raise
        return _refused(deps, provider, exc, wants_json, await return_to_of(deps, state))
    response = RedirectResponse(started.authorize_url, status_code=302, headers=_PAGE_HEADERS)
    if started.cookie_value is not None:
        response.set_cookie(
            started.cookie_name,
            started.cookie_value,
            max_age=started.max_age_s,
            path=_cookie_path(deps, provider),
            secure=deps.policy.public_base_url.startswith("https://"),
            httponly=True,
            samesite="lax",
        )
    return response


def _cookie_path(deps: Deps, provider: Platform) -> str:
    """This provider's OAuth paths under the public base URL (which may carry a prefix)."""
    return f"{urlsplit(deps.policy.public_base_url).path}/v1/oauth/{provider.value}/"


@router.get(
    "/{provider}/callback",
    response_model=CallbackResponse,
    responses={
        **error_responses(401, 404, 503),
        200: {"content": {"text/html": {}}, "description": "Connected (a page or JSON)"},
        303: {"description": "To the completion URL, with status and integrations"},
        400: {"model": ErrorBody, "content": {"text/html": {}}, "description": "Refused"},
    },
)
async def callback(
    provider: Platform,
    request: Request,
    deps: DepsDep,
    query: Annotated[CallbackQuery, Query()],
) -> Response:
    credentials = await api_key_scheme(request)
    caller = None
    if credentials is not None:
        caller = (
            await authenticate(deps, credentials.credentials, "integrations:write")
        ).business_id
    given = CallbackInput(
        query.state, query.code, query.error, query.error_reason, query.error_description
    )
    wants_json = "application/json" in request.headers.get("accept", "")
    cookie = browser_cookie_name(digest(query.state)) if query.state else None
    back = await return_to_of(deps, query.state)  # read before the callback spends the state
    try:
        integrations = await complete_callback(deps, provider.value, given, caller, request.cookies)
    except AuthServiceError as exc:
        if exc.status != 400:
            raise
        refused = _refused(deps, provider, exc, wants_json, back)
        return _forget(deps, provider, request, cookie, refused)
    answer = _connected(deps, provider, integrations, wants_json, back)
    return _forget(deps, provider, request, cookie, answer)


def _forget(
    deps: Deps, provider: Platform, request: Request, cookie: str | None, response: Response
) -> Response:
    """The flow's cookie is spent with its state: the answer deletes it."""
    if cookie is not None and cookie in request.cookies:
        response.delete_cookie(cookie, path=_cookie_path(deps, provider), httponly=True)
    return response


def _connected(
    deps: Deps,
    provider: Platform,
    integrations: list[Integration],
    wants_json: bool,
    return_to: str | None = None,
) -> Response:
    now = deps.clock.now()
    body = CallbackResponse(
        status="connected",
        provider=provider,
        integrations=[health(i, now, deps.policy.margins) for i in integrations],
    )
    end = return_to or deps.policy.completion_url
    if end:
        done = {"status": "connected", "provider": provider.value}
        done["integrations"] = ",".join(i.id for i in integrations)
        return _completion(end, done)
    if wants_json:
        return JSONResponse(body.model_dump(mode="json"), headers=_PAGE_HEADERS)
    names = "".join(f"<li>{escape(i.account_name or i.account_id)}</li>" for i in integrations)
    return _page(f"{provider.value.title()} connected", f"<ul>{names}</ul>", 200)


def _refused(
    deps: Deps,
    provider: Platform,
    exc: AuthServiceError,
    wants_json: bool,
    return_to: str | None = None,
) -> Response:
    end = return_to or deps.policy.completion_url
    if end:
        return _completion(end, {"status": "error", "provider": provider.value, "error": exc.code})
    if wants_json:
        body = {"error": exc.code, "message": exc.message}
        return JSONResponse(body, status_code=400, headers=_PAGE_HEADERS)
    text = f"<p>{escape(exc.message)}</p><p>Code: {escape(exc.code)}</p>"
    return _page("The connection was not completed", text, 400)


def _completion(end: str, query: dict[str, str]) -> Response:
    target = f"{end}{'&' if '?' in end else '?'}{urlencode(query)}"
    return RedirectResponse(target, status_code=303, headers=_PAGE_HEADERS)


def _page(title: str, body: str, status: int) -> HTMLResponse:
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>{body}"
        "<p>You can close this window.</p></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=_PAGE_HEADERS)
