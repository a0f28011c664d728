"""Authentication by API key, the error mapping, documented error responses (requests are counted
and timed for every service by `herald.metrics.RequestMetrics`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from herald.apierrors import Forbidden, Unauthorized
from herald.events import Violation
from herald.topics import Platform
from scheduler.api.schemas import ErrorBody
from scheduler.errors import Rejected, SchedulerError, Unavailable
from scheduler.handlers.base import Deps
from scheduler.ports import ApiKeys, KeyInfo

api_key_scheme = HTTPBearer(
    scheme_name="ApiKey", description="A business's API key: hk_<key_id>_<secret>", auto_error=False
)

DESCRIBED = {
    401: "Missing, unknown or revoked API key",
    403: "The key lacks the scope this route needs",
    404: "Not found (or not this business's)",
    409: "The request conflicts with the post's state or an earlier use of the key",
    413: "The body is larger than this route accepts",
    415: "The body's media type is not one this route reads",
    422: "Invalid input; every violation names its field path",
    503: "auth-service did not answer; try again",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorBody, "description": DESCRIBED[s]} for s in statuses}


def deps_of(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


DepsDep = Annotated[Deps, Depends(deps_of)]


def require(scope: str) -> Callable[..., Awaitable[KeyInfo]]:
    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(api_key_scheme)],
    ) -> KeyInfo:
        if credentials is None or not credentials.credentials.startswith("hk_"):
            msg = "send an API key: Authorization: Bearer hk_<key_id>_<secret>"
            raise Unauthorized(msg)
        keys: ApiKeys = request.app.state.api_keys
        info = await keys.introspect(credentials.credentials)
        if info is None:
            msg = "this API key is unknown or revoked"
            raise Unauthorized(msg)
        if scope not in info.scopes:
            msg = f"this API key lacks the {scope} scope"
            raise Forbidden(msg)
        return info

    return dependency


Reader = Annotated[KeyInfo, Depends(require("posts:read"))]
Writer = Annotated[KeyInfo, Depends(require("posts:write"))]


PLATFORMS = {p.value for p in Platform}


def _path(loc: tuple[int | str, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] if parts[0] == "body" else parts
    path, previous = "", None
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith("function-") or (previous == "options" and part in PLATFORMS):
            pass  # pydantic's validator and union-tag steps are not fields of the input
        else:
            path = f"{path}.{part}" if path else part
        previous = part
    return path or "(body)"


def violations_of(exc: RequestValidationError) -> list[Violation]:
    found = []
    for error in exc.errors():
        path = _path(tuple(error.get("loc", ())))
        found.append(Violation(path=path, message=str(error.get("msg")), code=str(error["type"])))
    return list(dict.fromkeys(found))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SchedulerError)
    async def _known(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SchedulerError)
        body = ErrorBody(error=exc.code, message=exc.message)
        if isinstance(exc, Rejected):
            body.violations = exc.violations
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, Unavailable):
            headers = {"Retry-After": "5"}
        return JSONResponse(body.model_dump(mode="json"), status_code=exc.status, headers=headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 400:
            # FastAPI answers 400 when a body is not even text; it is invalid input like any
            # other, so it gets the same 422 shape naming the body.
            problem = Violation(path="(body)", message=str(exc.detail), code="json_invalid")
            body = ErrorBody(error="invalid_request", message="the body is not JSON")
            body.violations = [problem]
            return JSONResponse(body.model_dump(mode="json"), 422)
        if exc.status_code == 405:
            # Starlette lists only the methods of the first route that matched the path; a
            # client needs every method any route on this path accepts.
            headers["Allow"] = ", ".join(_allowed(app, request.url.path))
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body = ErrorBody(error=code, message=str(exc.detail))
        return JSONResponse(body.model_dump(mode="json"), exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        violations = violations_of(exc)
        body = ErrorBody(
            error="invalid_request",
            message=f"{len(violations)} problem(s) with the request",
            violations=violations,
        )
        return JSONResponse(body.model_dump(mode="json"), status_code=422)


def _allowed(app: FastAPI, path: str) -> list[str]:
    methods: set[str] = set()
    for route in app.router.routes:
        if isinstance(route, APIRoute) and route.path_regex.match(path):
            methods |= route.methods or set()
    return sorted(methods)
