"""TikTok Login Kit v2 (platform-apis.md §4.1): authorize (PKCE accepted), token, refresh with
rotation, revoke.

- Token lifetimes follow `tiktok.token_profile`: `legacy` (access 24 h, refresh 365 d, the
  refresh token is kept) or `rotating` (access 2 h, refresh 180 d, and every refresh issues a new
  refresh token and kills the old one: reusing it is `invalid_grant`).
- PKCE: an authorize request without `code_challenge` (or with a method other than S256) is
  refused with `invalid_request` on the redirect, as TikTok does for apps it requires PKCE of
  (`tiktok.require_pkce`, on by default). A code issued with a challenge needs the
  `code_verifier`; a verifier sent for a code issued without one is refused too (RFC 9700
  §4.8.2: otherwise a challenge stripped from the authorize URL would go unnoticed). S256 is
  checked against both base64url (RFC 7636) and hex (what TikTok's desktop guide shows)
  encodings of the SHA-256.
- Errors use the OAuth shape `{"error", "error_description", "log_id"}`.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from platform_sandbox.ids import trace_id
from platform_sandbox.oauth.codes import AuthCode, CodeFlow
from platform_sandbox.oauth.consent import (
    Consent,
    authorize_params,
    consent_page,
    decision,
    error_page,
    form_fields,
    redirect,
    scope_list,
)
from platform_sandbox.sandbox import Sandbox
from platform_sandbox.tokens import Token, TokenKind

PROFILES = {"legacy": (86_400, 365 * 86_400, False), "rotating": (7_200, 180 * 86_400, True)}


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def response(self) -> JSONResponse:
        body = {"error": self.error, "error_description": self.description, "log_id": trace_id()}
        return JSONResponse(body, status_code=self.status)


def _redirect_ok(uri: str | None, registered: list[str]) -> bool:
    if not uri or len(uri) >= 512:
        return False
    parts = urlsplit(uri)
    static = not parts.query and not parts.fragment and "#" not in uri
    allowed = uri in registered if registered else parts.scheme in ("http", "https")
    return static and allowed and bool(parts.netloc)


def _invalid(params: dict[str, str], client_key: str, registered: list[str]) -> str | None:
    if params.get("client_key") != client_key:
        return "client_key is invalid"
    if not _redirect_ok(params.get("redirect_uri"), registered):
        return "redirect_uri is not registered or not static"
    if params.get("response_type") != "code":
        return "response_type must be code"
    return None


async def authorize(request: Request, sandbox: Sandbox) -> Response:
    params = await authorize_params(request)
    settings = sandbox.settings.tiktok
    problem = _invalid(params, settings.client_key, settings.redirect_uris)
    if problem is not None:
        return error_page("TikTok", problem)
    uri = params["redirect_uri"]
    open_id = params.get("sandbox_user") or (sandbox.demo.tiktok_open_id if sandbox.demo else "")
    creator = sandbox.state.accounts.tiktok_users.get(open_id)
    if creator is None:
        return error_page("TikTok", "No sandbox TikTok creator to log in as (sandbox_user).")
    scopes = scope_list(params.get("scope")) or ["user.info.basic"]
    state = {"state": params["state"]} if "state" in params else {}
    downgrade = _pkce_problem(params, settings.require_pkce)
    if downgrade is not None:
        return redirect(uri, {"error": "invalid_request", "error_description": downgrade} | state)
    chosen = decision(params, sandbox.settings.oauth)
    if chosen is None:
        consent = Consent("TikTok", "Herald", creator.display_name, scopes)
        return consent_page(consent, request.url.path, params)
    if chosen == "cancel":
        denied = {"error": "access_denied", "error_description": "The user denied the request"}
        return redirect(uri, denied | state)
    code = sandbox.state.codes.issue(
        CodeFlow.TIKTOK,
        client_id=settings.client_key,
        redirect_uri=uri,
        subject=open_id,
        scopes=frozenset(scopes),
        expires_at=sandbox.clock.now() + settings.code_ttl_s,
        code_challenge=params.get("code_challenge"),
    )
    return redirect(uri, {"code": code.code, "scopes": ",".join(scopes)} | state)


def _pkce_problem(params: dict[str, str], required: bool) -> str | None:
    challenge = params.get("code_challenge")
    if not challenge:
        return "code_challenge is required." if required else None
    if params.get("code_challenge_method") != "S256":
        return "code_challenge_method must be S256."
    return None


def _verifier_matches(challenge: str, verifier: str) -> bool:
    digest = hashlib.sha256(verifier.encode()).digest()
    encoded = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    return challenge in (encoded, digest.hex())


async def token(request: Request, sandbox: Sandbox) -> Response:
    form = await form_fields(request)
    settings = sandbox.settings.tiktok
    try:
        if form.get("client_key") != settings.client_key:
            raise OAuthError("invalid_client", "Client key is invalid.", 401)
        if form.get("client_secret") != settings.client_secret.get_secret_value():
            raise OAuthError("invalid_client", "Client secret is invalid.", 401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return JSONResponse(_from_code(sandbox, _take_code(sandbox, form)))
        if grant == "refresh_token":
            return JSONResponse(_refresh(sandbox, form.get("refresh_token", "")))
        raise OAuthError("unsupported_grant_type", "The grant type is not supported.")
    except OAuthError as exc:
        return exc.response()


def _take_code(sandbox: Sandbox, form: dict[str, str]) -> AuthCode:
    code = sandbox.state.codes.get(form.get("code", ""))
    if code is None or code.flow is not CodeFlow.TIKTOK or code.used:
        raise OAuthError("invalid_grant", "Authorization code is invalid or has been used.")
    if sandbox.clock.now() >= code.expires_at:
        raise OAuthError("invalid_grant", "Authorization code is expired.")
    if form.get("redirect_uri") != code.redirect_uri:
        raise OAuthError("invalid_grant", "Redirect URI does not match the authorization request.")
    if code.code_challenge is not None:
        verifier = form.get("code_verifier")
        if not verifier:
            raise OAuthError("invalid_request", "code_verifier is required.")
        if not _verifier_matches(code.code_challenge, verifier):
            raise OAuthError("invalid_grant", "Code verifier does not match the challenge.")
    elif form.get("code_verifier"):
        msg = "code_verifier was sent, but the authorization request had no code_challenge."
        raise OAuthError("invalid_request", msg)
    code.used = True
    return code


def _issue(
    sandbox: Sandbox, open_id: str, scopes: frozenset[str], refresh: Token | None
) -> dict[str, Any]:
    access_s, refresh_s, rotate = PROFILES[sandbox.settings.tiktok.token_profile]
    store, now, key = sandbox.state.tokens, sandbox.clock.now(), sandbox.settings.tiktok.client_key
    if refresh is None or rotate:
        if refresh is not None:
            store.revoke(refresh.value)  # rotation: the refresh token just used dies
        refresh = store.issue(
            TokenKind.TT_REFRESH,
            subject=open_id,
            app_id=key,
            scopes=scopes,
            now=now,
            lifetime_s=refresh_s,
        )
    access = store.issue(
        TokenKind.TT_ACCESS,
        subject=open_id,
        app_id=key,
        scopes=scopes,
        now=now,
        lifetime_s=access_s,
    )
    store.pair(access, refresh)
    return {
        "access_token": access.value,
        "expires_in": access_s,
        "open_id": open_id,
        "refresh_expires_in": int((refresh.expires_at or now) - now),
        "refresh_token": refresh.value,
        "scope": ",".join(sorted(scopes)),
        "token_type": "Bearer",
    }


def _from_code(sandbox: Sandbox, code: AuthCode) -> dict[str, Any]:
    return _issue(sandbox, code.subject, code.scopes, None)


def _refresh(sandbox: Sandbox, value: str) -> dict[str, Any]:
    refresh = sandbox.state.tokens.get(value)
    if refresh is None or refresh.kind is not TokenKind.TT_REFRESH or refresh.revoked:
        raise OAuthError("invalid_grant", "Refresh token is invalid or expired.")
    if refresh.expired(sandbox.clock.now()):
        raise OAuthError("invalid_grant", "Refresh token is invalid or expired.")
    return _issue(sandbox, refresh.subject, refresh.scopes, refresh)


async def revoke(request: Request, sandbox: Sandbox) -> Response:
    form = await form_fields(request)
    settings = sandbox.settings.tiktok
    if (
        form.get("client_key") != settings.client_key
        or form.get("client_secret") != settings.client_secret.get_secret_value()
    ):
        return OAuthError("invalid_client", "Client key or secret is invalid.", 401).response()
    token = sandbox.state.tokens.get(form.get("token", ""))
    if token is not None and token.kind in (TokenKind.TT_ACCESS, TokenKind.TT_REFRESH):
        # Revoking ends the authorization: every token of that creator for the app stops.
        sandbox.state.tokens.revoke_subject(token.subject)
    return JSONResponse({})
