"""Authentication dependencies, the error mapping and the documented error responses.

Three kinds of callers, three bearer schemes in the OpenAPI document:
- `ApiKey`: a business's key (`hk_<key_id>_<secret>`) on public routes, checked per scope,
  or a console session (`hs_<id>_<secret>`) with its role's scopes (ADR 0024);
- `ServiceToken`: another Herald service on `/internal`, named by `HERALD_AUTH_SERVICE_TOKENS`;
- `AdminToken`: operators on `/v1/admin`, `HERALD_AUTH_ADMIN_TOKEN`.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from auth_service.api.schemas import ErrorBody
from auth_service.domain import ApiKeyRecord
from auth_service.errors import AuthServiceError, Forbidden, Unauthorized
from auth_service.handlers.base import Deps
from auth_service.handlers.people import People, authenticate_any
from herald.httperrors import install_error_envelope
from herald.topics import Platform
from herald.tracing import OPERATIONAL_PATHS

api_key_scheme = HTTPBearer(
    scheme_name="ApiKey",
    description="An API key, hk_<key_id>_<secret>, or a console session, hs_<id>_<secret>",
    auto_error=False,
)
service_scheme = HTTPBearer(
    scheme_name="ServiceToken", description="A Herald service's token", auto_error=False
)
admin_scheme = HTTPBearer(scheme_name="AdminToken", description="The admin token", auto_error=False)

Bearer = HTTPAuthorizationCredentials | None


async def no_unknown_query(request: Request) -> None:
    """Refuse query parameters a route does not declare (a typo should not pass silently).
    OAuth callbacks are exempt: platforms add parameters of their own (`scopes`, `error_code`);
    so are `/healthz`, `/readyz` and `/metrics`, whose callers (probes, scrapers) are not ours."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    path = str(getattr(route, "path", ""))
    if dependant is None or path.endswith("/callback") or path in OPERATIONAL_PATHS:
        return
    known = {p.alias for p in _query_params(dependant)}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        msg = f"unknown query parameters: {', '.join(unknown)}"
        raise AuthServiceError(msg, code="unknown_parameter")


def _query_params(dependant: Any) -> list[Any]:
    found = list(dependant.query_params)
    for sub in dependant.dependencies:
        found += _query_params(sub)
    return found


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "Rejected input",
        401: "Missing or invalid credentials",
        403: "Credentials without the right to this",
        404: "Not found (or not this business's)",
        409: "The integration needs to be reconnected, or a webhook delivery was replayed",
        503: "The platform or a lock holder did not answer in time",
    }
    # 400 everywhere: a body that does not parse, or an undeclared query parameter.
    return {s: {"model": ErrorBody, "description": described[s]} for s in sorted({400, *statuses})}


def install_error_handler(app: FastAPI) -> None:
    """Every error answers `{"error", "message"}` (and a refusal's details), ours and the
    framework's alike: a body that cannot be parsed or fails validation (with `violations`), an
    unknown path, a method the path does not have. The envelope of every Herald API
    (`herald.httperrors`)."""
    install_error_envelope(app)


def deps_of(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


DepsDep = Annotated[Deps, Depends(deps_of)]


def people_of(request: Request) -> People:
    people: People | None = request.app.state.people
    if people is None:  # build_components always builds it; a test's hand-made app may not
        msg = "this auth-service was built without console users"
        raise RuntimeError(msg)
    return people


PeopleDep = Annotated[People, Depends(people_of)]


def require_key(scope: str) -> Callable[..., Awaitable[ApiKeyRecord]]:
    """An API key with `scope`, or a session whose role has it (seen as a key)."""

    async def dependency(
        deps: DepsDep, people: PeopleDep, credentials: Annotated[Bearer, Depends(api_key_scheme)]
    ) -> ApiKeyRecord:
        raw = credentials.credentials if credentials else None
        return await authenticate_any(deps, people, raw, scope)

    return dependency


@dataclass(frozen=True)
class Caller:
    service: str

    @property
    def publisher_platform(self) -> Platform | None:
        """`publisher-<platform>` may read only that platform's tokens."""
        suffix = self.service.removeprefix("publisher-")
        return Platform(suffix) if suffix in Platform.__members__.values() else None

    @property
    def is_publisher(self) -> bool:
        return self.service.startswith("publisher-")


def match_service(tokens: Mapping[str, SecretStr], given: str) -> str | None:
    """The service whose token `given` is; every token is compared, in constant time."""
    found = None
    for name, token in tokens.items():
        if hmac.compare_digest(token.get_secret_value().encode(), given.encode()):
            found = name
    return found


def require_service(*roles: str) -> Callable[..., Awaitable[Caller]]:
    """Roles: `publisher` (any `publisher-*`) or a service name such as `scheduler`."""

    async def dependency(
        request: Request, credentials: Annotated[Bearer, Depends(service_scheme)]
    ) -> Caller:
        if credentials is None:
            raise Unauthorized("a service token is required")
        name = match_service(request.app.state.service_tokens, credentials.credentials)
        if name is None:
            raise Unauthorized("the service token is not valid")
        caller = Caller(name)
        if name in roles or ("publisher" in roles and caller.is_publisher):
            return caller
        raise Forbidden(f"{name} may not call this")

    return dependency


async def require_admin(
    request: Request, credentials: Annotated[Bearer, Depends(admin_scheme)]
) -> None:
    expected: SecretStr | None = request.app.state.admin_token
    if credentials is None:
        raise Unauthorized("the admin token is required")
    if expected is None or not hmac.compare_digest(
        expected.get_secret_value().encode(), credentials.credentials.encode()
    ):
        raise Unauthorized("the admin token is not valid")
