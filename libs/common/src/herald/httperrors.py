"""One error envelope for every Herald HTTP API: `{"error": <code>, "message": <text>}`, plus
`violations` (each `{path, message, code}`) when the input broke rules, and a refusal's own
details (`herald.apierrors.ApiError.details`).

FastAPI answers `{"detail": ...}` on its own (a body that fails validation, an unknown path, a
method the path does not have); `install_error_envelope` maps those too, and rewrites the
OpenAPI document so that what it says a 422 looks like is what the service sends. A service
whose routes imitate someone else's API (the platform sandbox) passes `owns` to keep its
imitations' framework answers as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any, cast

import structlog
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from herald.apierrors import ApiError
from herald.events import Violation
from herald.inputs import printable
from herald.topics import Platform

log = structlog.get_logger(__name__)

PLATFORMS = {p.value for p in Platform}
_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "too_large",
    415: "unsupported_media_type",
}


class ErrorEnvelope(BaseModel):
    """What every Herald API answers when it refuses or fails."""

    error: str = Field(examples=["invalid_request", "not_found", "unauthorized"])
    message: str
    violations: list[Violation] = Field(
        default_factory=list, description="Every problem with the input, each with its path."
    )


def envelope(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": code, "message": message, **details}


def violation_path(loc: Sequence[int | str]) -> str:
    """`targets[0].options.kind` from pydantic's `("body", "targets", 0, "options", ...)`."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    path, previous = "", None
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith("function-") or (previous == "options" and part in PLATFORMS):
            pass  # pydantic's validator and union-tag steps are not fields of the input
        else:
            path = f"{path}.{printable(part)}" if path else printable(part)
        previous = part
    return path or "(body)"


def violations_of(exc: RequestValidationError) -> list[Violation]:
    found = [
        Violation(
            path=violation_path(tuple(error.get("loc", ()))),
            message=printable(str(error.get("msg"))),
            code=str(error["type"]),
        )
        for error in exc.errors()
    ]
    return list(dict.fromkeys(found))


def invalid_request(violations: list[Violation]) -> JSONResponse:
    body = ErrorEnvelope(
        error="invalid_request",
        message=f"{len(violations)} problem(s) with the request",
        violations=violations,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=422)


def install_error_envelope(
    app: FastAPI,
    *,
    owns: Callable[[str], bool] | None = None,
    unparsable_body_status: int = 400,
) -> None:
    """Answer every refusal and failure of `app` with the envelope (for the paths it `owns`:
    all of them unless told otherwise) and document 422 as the envelope. A body that is not
    even JSON answers `unparsable_body_status`: 400, or 422 like any other invalid input."""

    def ours(request: Request) -> bool:
        return owns is None or owns(request.url.path)

    @app.exception_handler(ApiError)
    async def _refused(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        body = envelope(exc.code, exc.message, **exc.details)
        violations = getattr(exc, "violations", None)
        if violations is not None:
            body["violations"] = [v.model_dump(mode="json") for v in violations]
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if exc.status == 503:
            headers = {"Retry-After": "5"}
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not ours(request):
            return await request_validation_exception_handler(request, exc)
        return invalid_request(violations_of(exc))

    async def _http(request: Request, exc: Exception) -> Response:
        """The framework's own refusals (Starlette's `HTTPException`: an unknown path, a wrong
        method, a body that is not JSON), handled by status code."""
        if not ours(request):
            return await http_exception_handler(request, cast("Any", exc))
        status: int = getattr(exc, "status_code", 500)
        detail = str(getattr(exc, "detail", HTTPStatus(status).phrase))
        if status == 400 and unparsable_body_status == 422:
            return invalid_request([Violation(path="(body)", message=detail, code="json_invalid")])
        headers = dict(getattr(exc, "headers", None) or {})
        if status == 405:
            # Starlette names only the first matching route's methods; a client needs all.
            headers["Allow"] = ", ".join(allowed_methods(app, request.url.path))
        code = _HTTP_CODES.get(status, f"http_{status}")
        return JSONResponse(envelope(code, detail), status_code=status, headers=headers)

    for status in HTTPStatus:
        if status >= 400 and status != 422:  # validation errors have their own handler
            app.add_exception_handler(int(status), _http)

    @app.exception_handler(Exception)
    async def _failed(request: Request, exc: Exception) -> JSONResponse:
        # Logged with its traceback by the server; the caller gets the envelope, not a page.
        log.error("http.unhandled", path=request.url.path, error=type(exc).__name__)
        message = "the service failed to answer this request; it has been logged"
        return JSONResponse(envelope("internal_error", message), status_code=500)

    _document_422_as_envelope(app)


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method any route serves on `path` (HEAD, implied by GET, is not listed)."""
    methods: set[str] = set()
    for route in app.router.routes:
        if isinstance(route, APIRoute) and route.path_regex.match(path):
            methods |= (route.methods or set()) - {"HEAD"}
    return sorted(methods)


_REF = "#/components/schemas/{model}"


def _document_422_as_envelope(app: FastAPI) -> None:
    """FastAPI documents 422 as its own `HTTPValidationError` wherever a route declares none;
    the service sends the envelope, so the document says so."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = generate()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        if schemas.pop("HTTPValidationError", None) is None:
            return document
        schemas.pop("ValidationError", None)
        envelope_schema = ErrorEnvelope.model_json_schema(ref_template=_REF)
        for name, schema in envelope_schema.pop("$defs", {}).items():
            schemas.setdefault(name, schema)
        schemas.setdefault("ErrorEnvelope", envelope_schema)
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                answer = operation.get("responses", {}).get("422")
                content = (answer or {}).get("content", {}).get("application/json", {})
                if content.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                    content["schema"] = {"$ref": "#/components/schemas/ErrorEnvelope"}
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
