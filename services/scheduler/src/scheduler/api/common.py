"""Authentication by API key, the error mapping, documented error responses (requests are counted
and timed for every service by `herald.metrics.RequestMetrics`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from herald.apierrors import Forbidden, Unauthorized
from herald.httperrors import install_error_envelope
from scheduler.api.schemas import ErrorBody
from scheduler.handlers.base import Deps
from scheduler.ports import ApiKeys, KeyInfo

api_key_scheme = HTTPBearer(
    scheme_name="ApiKey",
    description="An API key, hk_<key_id>_<secret>, or a console session, hs_<id>_<secret>",
    auto_error=False,
)
# A console session is asked about like a key; auth-service answers with its role's scopes
# (ADR 0024), so a viewer's session lacks posts:write here as on auth-service.
CREDENTIAL_PREFIXES = ("hk_", "hs_")

DESCRIBED = {
    401: "Missing, unknown or revoked API key (or console session)",
    403: "The key (or the session's role) lacks the scope this route needs",
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
        if credentials is None or not credentials.credentials.startswith(CREDENTIAL_PREFIXES):
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


def install_error_handlers(app: FastAPI) -> None:
    """The envelope every Herald API answers (`herald.httperrors`); a body that is not even JSON
    is invalid input like any other: 422 naming the body."""
    install_error_envelope(app, unparsable_body_status=422)
