"""Every route reads its inputs strictly before FastAPI sees them (issue 19, finding 4): path
and query parameters must be text Herald can store and look up, and a JSON body must be JSON
Herald can use (`auth_service.strict_json`). Refusals are 400 naming the parameter or field;
a JSON route sent another content type answers 415. What passes is handed on unchanged, and
FastAPI validates it as before."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import params
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from auth_service.errors import AuthServiceError
from auth_service.strict_json import parse_strict, printable, text_problem
from herald.apierrors import UnsupportedMediaType

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def _is_json(kind: str) -> bool:
    kind = kind.split(";", 1)[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


def check_parameters(request: Request) -> None:
    given = [*request.path_params.items(), *request.query_params.multi_items()]
    for name, value in given:
        why = text_problem(str(value)) or text_problem(name)
        if why is not None:
            msg = f"{printable(name)}: {why}"
            raise AuthServiceError(msg, code="invalid_parameter")


class StrictRoute(APIRoute):
    """A route whose parameters, and JSON body if it declares one, are read strictly first.
    Forms and the webhooks that verify raw bytes keep their bodies as they came."""

    def get_route_handler(self) -> Handler:
        handler: Handler = super().get_route_handler()
        body = self.body_field
        json_body = body is not None and not isinstance(body.field_info, params.Form)

        async def strict(request: Request) -> Response:
            check_parameters(request)
            if json_body:
                raw = await request.body()
                kind = request.headers.get("content-type", "application/json")
                if raw and not _is_json(kind):
                    msg = f"the body must be JSON (Content-Type: application/json), not {kind}"
                    raise UnsupportedMediaType(msg)
                if raw:
                    # Starlette keeps a parsed body here; FastAPI's `request.json()` reads it.
                    request._json = parse_strict(raw)
            return await handler(request)

        return strict
