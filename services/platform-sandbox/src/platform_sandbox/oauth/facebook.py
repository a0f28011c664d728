"""Facebook Login: the dialog, code exchange, long-lived exchange, app tokens, `debug_token`.

Follows platform-apis.md §1.1 and §3.1. A `config_id` listed in
`meta.embedded_signup_config_ids` stands for WhatsApp Embedded Signup: its code exchanges for a
business-integration system-user token granted the person's WhatsApp business accounts.
Cancelling redirects with `error=access_denied&error_reason=user_denied`, as Facebook does, and
every redirect carries Facebook's `#_=_` fragment.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from platform_sandbox.accounts import NodeKind
from platform_sandbox.graph_auth import allowed_accounts, ensure_alive
from platform_sandbox.graph_errors import GraphError, missing_param
from platform_sandbox.graph_router import GraphCall, GraphRouter, Route
from platform_sandbox.oauth.codes import AuthCode, CodeFlow
from platform_sandbox.oauth.consent import (
    Consent,
    authorize_params,
    consent_page,
    decision,
    error_page,
    redirect,
    scope_list,
    valid_redirect,
)
from platform_sandbox.sandbox import Sandbox
from platform_sandbox.tokens import META_USER_KINDS, Token, TokenKind

BUSINESS_SCOPES = [
    "business_management",
    "pages_show_list",
    "pages_manage_posts",
    "pages_read_engagement",
    "read_insights",
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_insights",
    "whatsapp_business_management",
    "whatsapp_business_messaging",
]
GRAPH = "graph.facebook.com"


async def dialog(request: Request, sandbox: Sandbox) -> Response:
    params = await authorize_params(request)
    meta = sandbox.settings.meta
    if params.get("client_id") != meta.app_id:
        return error_page("Facebook", "Invalid App ID: the client_id is not a sandbox app.")
    uri = params.get("redirect_uri")
    if not valid_redirect(uri, meta.redirect_uris) or uri is None:
        return error_page("Facebook", "URL Blocked: the redirect_uri is not whitelisted.")
    user_id = params.get("sandbox_user") or (sandbox.demo.user_id if sandbox.demo else "")
    user = sandbox.state.accounts.users.get(user_id)
    if user is None:
        return error_page("Facebook", "No sandbox user to log in as (sandbox_user).")
    business = params.get("config_id") in meta.embedded_signup_config_ids
    # With Login for Business the configuration, not `scope`, decides the permissions.
    scopes = BUSINESS_SCOPES if "config_id" in params else scope_list(params.get("scope"))
    scopes = scopes or BUSINESS_SCOPES
    chosen = decision(params, sandbox.settings.oauth)
    state = {"state": params["state"]} if "state" in params else {}
    if chosen is None:
        consent = Consent("Facebook", "Herald", user.name, scopes)
        return consent_page(consent, request.url.path, params)
    if chosen == "cancel":
        denied = {
            "error": "access_denied",
            "error_code": "200",
            "error_description": "Permissions error",
            "error_reason": "user_denied",
        }
        return redirect(uri, denied | state, "_=_")
    wabas = frozenset(w.id for w in sandbox.state.accounts.wabas_of_user(user.id))
    code = sandbox.state.codes.issue(
        CodeFlow.FACEBOOK_BUSINESS if business else CodeFlow.FACEBOOK_USER,
        client_id=meta.app_id,
        redirect_uri=uri,
        subject=user.id,
        scopes=frozenset(scopes),
        expires_at=sandbox.clock.now() + meta.code_ttl_s,
        assets=wabas if business else frozenset(),
    )
    return redirect(uri, {"code": code.code} | state, "_=_")


async def access_token(call: GraphCall) -> dict[str, Any]:
    params, meta = call.req.params, call.sandbox.settings.meta
    if params.text("client_id") != meta.app_id:
        raise GraphError(101, "Error validating application. Invalid application ID.")
    _check_secret(call)
    grant = params.text("grant_type")
    if grant == "client_credentials":
        app_token = f"{meta.app_id}|{meta.app_secret.get_secret_value()}"
        return {"access_token": app_token, "token_type": "bearer"}
    if grant == "fb_exchange_token":
        return _exchange(call, params.require("fb_exchange_token"))
    code = _take_code(call, params.require("code"))
    return _issue_from_code(call, code)


def _check_secret(call: GraphCall) -> None:
    given = call.req.params.text("client_secret")
    if given is None:
        raise missing_param("client_secret")
    if given != call.sandbox.settings.meta.app_secret.get_secret_value():
        raise GraphError(1, "Error validating client secret.")


def _exchange(call: GraphCall, short: str) -> dict[str, Any]:
    store, now = call.sandbox.state.tokens, call.now
    token = store.get(short)
    if token is None or token.kind not in META_USER_KINDS:
        raise GraphError(190, "Invalid OAuth access token - Cannot parse access token")
    ensure_alive(token, store, now)
    lifetime = call.sandbox.settings.meta.long_lived_user_token_s
    long = store.issue(
        TokenKind.USER_LONG,
        subject=token.subject,
        app_id=token.app_id,
        scopes=token.scopes,
        now=now,
        lifetime_s=lifetime,
    )
    return {"access_token": long.value, "token_type": "bearer", "expires_in": lifetime}


def _take_code(call: GraphCall, value: str) -> AuthCode:
    code = call.sandbox.state.codes.get(value)
    facebook = (CodeFlow.FACEBOOK_USER, CodeFlow.FACEBOOK_BUSINESS)
    if code is None or code.flow not in facebook:
        raise GraphError(100, "Invalid verification code format.")
    if code.used:
        raise GraphError(100, "This authorization code has been used.", subcode=36009)
    if call.now >= code.expires_at:
        raise GraphError(100, "This authorization code has expired.", subcode=36007)
    given = call.req.params.text("redirect_uri")
    if given is not None and given != code.redirect_uri:
        raise GraphError(
            100,
            "Error validating verification code. Please make sure your redirect_uri is "
            "identical to the one you used in the OAuth dialog request",
            subcode=36008,
        )
    code.used = True
    return code


def _issue_from_code(call: GraphCall, code: AuthCode) -> dict[str, Any]:
    state, meta, now = call.sandbox.state, call.sandbox.settings.meta, call.now
    if code.flow is CodeFlow.FACEBOOK_BUSINESS:
        system_user = _system_user(call, code)
        token = state.tokens.issue(
            TokenKind.SYSTEM_USER,
            subject=system_user,
            app_id=meta.app_id,
            scopes=code.scopes,
            now=now,
            lifetime_s=None,
            assets=code.assets,
        )
        return {"access_token": token.value, "token_type": "bearer"}
    lifetime = meta.short_lived_user_token_s
    token = state.tokens.issue(
        TokenKind.USER_SHORT,
        subject=code.subject,
        app_id=meta.app_id,
        scopes=code.scopes,
        now=now,
        lifetime_s=lifetime,
    )
    return {"access_token": token.value, "token_type": "bearer", "expires_in": lifetime}


def _system_user(call: GraphCall, code: AuthCode) -> str:
    """The business-integration system user Embedded Signup creates for the customer."""
    state = call.sandbox.state
    system_user = state.ids.graph("system_user")
    waba = next((state.accounts.wabas[w] for w in sorted(code.assets)), None)
    state.accounts.nodes.add(NodeKind.SYSTEM_USER, system_user, waba.business_id if waba else None)
    return system_user


async def debug_token(call: GraphCall) -> dict[str, Any]:
    value = call.req.params.require("input_token")
    store = call.sandbox.state.tokens
    subject = store.get(value)
    if subject is None:
        error = {"code": 190, "message": "Invalid OAuth access token - Cannot parse access token"}
        return {"data": {"error": error, "is_valid": False, "scopes": []}}
    described = _describe(call, subject)
    try:
        ensure_alive(subject, store, call.now)
    except GraphError as exc:
        error = {"code": exc.code, "message": exc.message, "subcode": exc.subcode}
        described |= {"is_valid": False, "error": error}
    return {"data": described}


def _describe(call: GraphCall, token: Token) -> dict[str, Any]:
    accounts = call.sandbox.state.accounts
    kind = {TokenKind.PAGE: "PAGE", TokenKind.SYSTEM_USER: "SYSTEM_USER"}.get(token.kind, "USER")
    targets = sorted(allowed_accounts(token, accounts) - {token.subject})
    wabas = [t for t in targets if t in accounts.wabas]
    pages = [t for t in targets if t in accounts.pages]
    granular = []
    for scope in sorted(token.scopes):
        ids = (
            wabas if scope.startswith("whatsapp") else pages if scope.startswith("pages") else None
        )
        granular.append({"scope": scope} | ({"target_ids": ids} if ids else {}))
    described: dict[str, Any] = {
        "app_id": token.app_id,
        "type": kind,
        "application": "Herald",
        "data_access_expires_at": int(token.issued_at + call.sandbox.settings.meta.data_access_s),
        "expires_at": int(token.expires_at or 0),
        "is_valid": True,
        "issued_at": int(token.issued_at),
        "scopes": sorted(token.scopes),
        "granular_scopes": granular,
        "user_id": token.subject,
    }
    if token.kind is TokenKind.PAGE:
        described["profile_id"] = token.subject
    return described


def register(router: GraphRouter) -> None:
    exchange = Route(access_token, "meta", "oauth/access_token", needs_token=False)
    router.root(GRAPH, "oauth/access_token", ("GET", "POST"), exchange)
    router.root(GRAPH, "debug_token", ("GET",), Route(debug_token, "meta", "debug_token"))
