"""How every TikTok API call is taken: fault injection, the bearer token (`access_token_invalid`
when missing, unknown, expired or revoked), the endpoint's scopes (`scope_not_authorized`), the
per-token per-minute limit (`rate_limit_exceeded`), then the handler."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from platform_sandbox.accounts import TikTokUser
from platform_sandbox.faults import FaultError, Target, run_with_fault
from platform_sandbox.sandbox import Sandbox
from platform_sandbox.tiktok.envelope import (
    TikTokError,
    internal,
    ok,
    rate_limited,
    scope_not_authorized,
    token_invalid,
)
from platform_sandbox.tokens import Token, TokenKind

MINUTE = 60.0


@dataclass(frozen=True)
class Spec:
    endpoint: str
    scopes: frozenset[str]  # any one of them is enough
    per_minute: str  # name of the TikTokSettings field with the limit


@dataclass
class TikTokCall:
    sandbox: Sandbox
    request: Request
    token: Token
    body: dict[str, Any]

    @property
    def now(self) -> float:
        return self.sandbox.clock.now()

    @property
    def creator(self) -> TikTokUser:
        creator = self.sandbox.state.accounts.tiktok_users.get(self.token.subject)
        if creator is None:
            raise token_invalid()
        return creator


Handler = Callable[[TikTokCall], Awaitable[dict[str, Any]]]


def bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def live_token(sandbox: Sandbox, value: str | None) -> Token:
    token = sandbox.state.tokens.get(value or "")
    if token is None or token.kind is not TokenKind.TT_ACCESS or token.revoked:
        raise token_invalid()
    if token.expired(sandbox.clock.now()):
        raise token_invalid()
    return token


async def handle(sandbox: Sandbox, request: Request, spec: Spec, handler: Handler) -> Response:
    known = sandbox.state.tokens.get(bearer(request) or "")
    account = known.subject if known else None
    rule = sandbox.faults.match(Target("tiktok", spec.endpoint, request.method, account))

    async def run() -> Response:
        try:
            token = live_token(sandbox, bearer(request))
            if spec.scopes and not spec.scopes & token.scopes:
                raise scope_not_authorized(min(spec.scopes))
            limit = getattr(sandbox.settings.tiktok, spec.per_minute)
            key = (token.value, spec.endpoint)
            if not sandbox.state.tiktok.calls.allow(
                key, now=sandbox.clock.now(), limit=limit, window_s=MINUTE
            ):
                raise rate_limited()
            body = await _json(request)
            return ok(await handler(TikTokCall(sandbox, request, token, body)))
        except TikTokError as exc:
            return exc.response()

    return await run_with_fault(rule, run, _fault_response, hang_s=sandbox.settings.faults.hang_s)


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except json.JSONDecodeError:
        raise TikTokError(400, "invalid_params", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise TikTokError(400, "invalid_params", "The request body must be a JSON object.")
    return body


def fault_error(error: FaultError | None) -> TikTokError:
    if error is None or error.code is None:
        return internal()
    return TikTokError(error.status or 500, str(error.code), error.message or "Injected fault")


def _fault_response(error: FaultError | None) -> Response:
    return fault_error(error).response()
