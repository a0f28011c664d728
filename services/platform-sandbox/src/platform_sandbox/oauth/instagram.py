"""Business Login for Instagram (platform-apis.md §2.1): the authorize page on
www.instagram.com, the code exchange on api.instagram.com (which has its own error shape), and
the long-lived exchange and refresh on graph.instagram.com.

- Codes live 1 hour and are single use; redirects carry Meta's `#_` fragment.
- Cancelling redirects with `error=access_denied&error_reason=user_denied`.
- `ig_refresh_token` needs a long-lived token at least 24 hours old; the new token lives 60 days.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from platform_sandbox.graph_auth import IG_HOST, cannot_parse, ensure_alive
from platform_sandbox.graph_errors import GraphError, missing_param
from platform_sandbox.graph_router import GraphCall, GraphRouter, Route
from platform_sandbox.oauth.codes import CodeFlow
from platform_sandbox.oauth.consent import (
    Consent,
    authorize_params,
    consent_page,
    decision,
    error_page,
    form_fields,
    redirect,
    scope_list,
    valid_redirect,
)
from platform_sandbox.sandbox import Sandbox
from platform_sandbox.tokens import Token, TokenKind

DEFAULT_SCOPES = ["instagram_business_basic"]


async def authorize(request: Request, sandbox: Sandbox) -> Response:
    params = await authorize_params(request)
    settings = sandbox.settings.instagram
    if params.get("client_id") != settings.app_id:
        return error_page("Instagram", "Invalid app ID")
    uri = params.get("redirect_uri")
    if uri is None or not valid_redirect(uri, sandbox.settings.meta.redirect_uris):
        return error_page("Instagram", "Invalid redirect_uri")
    ig_id = params.get("sandbox_user") or (sandbox.demo.ig_user_id if sandbox.demo else "")
    ig = sandbox.state.accounts.ig_users.get(ig_id)
    if ig is None:
        return error_page("Instagram", "No sandbox Instagram account to log in as (sandbox_user).")
    scopes = scope_list(params.get("scope")) or DEFAULT_SCOPES
    state = {"state": params["state"]} if "state" in params else {}
    chosen = decision(params, sandbox.settings.oauth)
    if chosen is None:
        return consent_page(
            Consent("Instagram", "Herald", ig.username, scopes), request.url.path, params
        )
    if chosen == "cancel":
        denied = {
            "error": "access_denied",
            "error_reason": "user_denied",
            "error_description": "The user denied your request.",
        }
        return redirect(uri, denied | state, "_")
    code = sandbox.state.codes.issue(
        CodeFlow.INSTAGRAM,
        client_id=settings.app_id,
        redirect_uri=uri,
        subject=ig.id,
        scopes=frozenset(scopes),
        expires_at=sandbox.clock.now() + settings.code_ttl_s,
    )
    return redirect(uri, {"code": code.code} | state, "_")


def _oauth_error(message: str, status: int = 400) -> JSONResponse:
    body = {"error_type": "OAuthException", "code": status, "error_message": message}
    return JSONResponse(body, status_code=status)


async def exchange_code(request: Request, sandbox: Sandbox) -> Response:
    """`POST api.instagram.com/oauth/access_token`: a code for a short-lived token."""
    form = await form_fields(request)
    settings = sandbox.settings.instagram
    if form.get("client_id") != settings.app_id:
        return _oauth_error("Invalid platform app")
    if form.get("client_secret") != settings.app_secret.get_secret_value():
        return _oauth_error("Error validating client secret.")
    if form.get("grant_type") != "authorization_code":
        return _oauth_error("Unsupported grant type")
    code = sandbox.state.codes.get(form.get("code", "").removesuffix("#_"))
    now = sandbox.clock.now()
    if code is None or code.flow is not CodeFlow.INSTAGRAM or code.used or now >= code.expires_at:
        return _oauth_error("Matching code was not found or was already used")
    if form.get("redirect_uri") != code.redirect_uri:
        return _oauth_error("Error validating verification code. redirect_uri does not match")
    code.used = True
    token = sandbox.state.tokens.issue(
        TokenKind.IG_SHORT,
        subject=code.subject,
        app_id=settings.app_id,
        scopes=code.scopes,
        now=now,
        lifetime_s=settings.short_lived_token_s,
    )
    entry = {
        "access_token": token.value,
        "user_id": code.subject,
        "permissions": ",".join(sorted(code.scopes)),
    }
    return JSONResponse({"data": [entry]})


def _given_token(call: GraphCall, kinds: frozenset[TokenKind]) -> Token:
    value = call.req.token
    if value is None:
        raise missing_param("access_token")
    store = call.sandbox.state.tokens
    token = store.get(value)
    if token is None or token.kind not in kinds:
        raise cannot_parse()
    ensure_alive(token, store, call.now)
    return token


async def long_lived(call: GraphCall) -> dict[str, Any]:
    settings = call.sandbox.settings.instagram
    if call.req.params.text("grant_type") != "ig_exchange_token":
        raise GraphError(100, "Unsupported grant_type; expected ig_exchange_token")
    if call.req.params.text("client_secret") != settings.app_secret.get_secret_value():
        raise GraphError(101, "Error validating client secret.")
    short = _given_token(call, frozenset({TokenKind.IG_SHORT}))
    return _issue_long(call, short)


async def refresh(call: GraphCall) -> dict[str, Any]:
    if call.req.params.text("grant_type") != "ig_refresh_token":
        raise GraphError(100, "Unsupported grant_type; expected ig_refresh_token")
    token = _given_token(call, frozenset({TokenKind.IG_LONG}))
    if call.now - token.issued_at < call.sandbox.settings.instagram.refresh_min_age_s:
        raise GraphError(100, "The access token must be at least 24 hours old to be refreshed")
    if "instagram_business_basic" not in token.scopes:
        raise GraphError(10, "Refreshing needs the instagram_business_basic permission")
    return _issue_long(call, token)


def _issue_long(call: GraphCall, token: Token) -> dict[str, Any]:
    lifetime = call.sandbox.settings.instagram.long_lived_token_s
    issued = call.sandbox.state.tokens.issue(
        TokenKind.IG_LONG,
        subject=token.subject,
        app_id=token.app_id,
        scopes=token.scopes,
        now=call.now,
        lifetime_s=lifetime,
    )
    return {"access_token": issued.value, "token_type": "bearer", "expires_in": lifetime}


def register(router: GraphRouter) -> None:
    exchange = Route(long_lived, "meta", "access_token", needs_token=False)
    router.root(IG_HOST, "access_token", ("GET",), exchange)
    renew = Route(refresh, "meta", "refresh_access_token", needs_token=False)
    router.root(IG_HOST, "refresh_access_token", ("GET",), renew)
