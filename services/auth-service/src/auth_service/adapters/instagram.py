"""Instagram professional accounts, by either login (platform-apis.md §2.1).

- Facebook Login: the accounts are the Instagram business accounts linked to the person's
  Pages; each integration publishes with its Page's token (renewed like a Facebook Page's).
- Business Login for Instagram: code → short-lived token (api.instagram.com) → long-lived
  60-day token (`ig_exchange_token`), renewed with `ig_refresh_token` before it expires.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from auth_service.adapters.graph import MetaApp
from auth_service.adapters.http import body_of, graph_error, graph_json, send
from auth_service.adapters.meta import check_token, refresh_page_token, revoke_user, user_login
from auth_service.domain import (
    AuthServer,
    DiscoveredAccount,
    Integration,
    RefreshMode,
    SecretField,
    TokenGrant,
)
from auth_service.ports import AuthorizeRequest, Clock
from herald.errors import NeedsReauth
from herald.topics import Platform

_PAGE_FIELDS = "id,name,access_token,instagram_business_account{id,username,name}"


@dataclass
class InstagramApp:
    http: httpx.AsyncClient
    clock: Clock
    authorize_url: str  # https://www.instagram.com
    api_url: str  # https://api.instagram.com
    graph_url: str  # https://graph.instagram.com
    app_id: str
    app_secret: str
    scopes: list[str]


class InstagramGateway:
    platform = Platform.INSTAGRAM

    def __init__(self, meta: MetaApp, meta_scopes: list[str], ig: InstagramApp) -> None:
        self._meta = meta
        self._meta_scopes = meta_scopes
        self._ig = ig

    def auth_servers(self) -> tuple[AuthServer, ...]:
        return (AuthServer.INSTAGRAM, AuthServer.FACEBOOK)

    def uses_pkce(self, auth_server: AuthServer) -> bool:
        del auth_server
        return False

    def authorize_url(self, request: AuthorizeRequest) -> str:
        if request.auth_server is AuthServer.FACEBOOK:
            return self._meta.dialog(
                state=request.state,
                redirect_uri=request.redirect_uri,
                scopes=self._meta_scopes,
                code_challenge=None,
            )
        params = {
            "client_id": self._ig.app_id,
            "redirect_uri": request.redirect_uri,
            "response_type": "code",
            "scope": ",".join(self._ig.scopes),
            "state": request.state,
        }
        return f"{self._ig.authorize_url}/oauth/authorize?{urlencode(params)}"

    async def connect(
        self, *, auth_server: AuthServer, code: str, redirect_uri: str, code_verifier: str | None
    ) -> list[DiscoveredAccount]:
        if auth_server is AuthServer.FACEBOOK:
            return await self._connect_facebook(code, redirect_uri, code_verifier)
        return [await self._connect_instagram(code.removesuffix("#_"), redirect_uri)]

    async def _connect_facebook(
        self, code: str, redirect_uri: str, verifier: str | None
    ) -> list[DiscoveredAccount]:
        long, me, scopes = await user_login(self._meta, code, redirect_uri, verifier)
        pages = await self._meta.paged("me/accounts", long.token, _PAGE_FIELDS)
        found = []
        for page in pages:
            ig = page.get("instagram_business_account")
            if not isinstance(ig, dict) or not ig.get("id") or not page.get("access_token"):
                continue
            found.append(
                DiscoveredAccount(
                    platform=Platform.INSTAGRAM,
                    account_id=str(ig["id"]),
                    account_name=ig.get("username") or ig.get("name"),
                    account={
                        "ig_user_id": str(ig["id"]),
                        "page_id": str(page["id"]),
                        "username": str(ig.get("username") or ""),
                        "login": "facebook",
                    },
                    scopes=scopes,
                    mode=RefreshMode.EXCHANGE,
                    auth_server=AuthServer.FACEBOOK,
                    provider_user_id=str(me.get("id")) if me.get("id") else None,
                    tokens={
                        SecretField.ACCESS: str(page["access_token"]),
                        SecretField.USER: long.token,
                    },
                    user_expires_at=long.expires_at,
                )
            )
        return found

    async def _short_lived(self, code: str, redirect_uri: str) -> dict[str, Any]:
        """api.instagram.com: the code for a short-lived token, its user id and permissions."""
        form = {
            "client_id": self._ig.app_id,
            "client_secret": self._ig.app_secret,
            "grant_type": "authorization_code",
            "redirect_uri": redirect_uri,
            "code": code,
        }
        url = f"{self._ig.api_url}/oauth/access_token"
        return _exchange_body(await send(self._ig.http, "POST", url, data=form))

    async def _connect_instagram(self, code: str, redirect_uri: str) -> DiscoveredAccount:
        short = await self._short_lived(code, redirect_uri)
        user_id = str(short.get("user_id") or "")
        permissions = short.get("permissions") or ""
        scopes = tuple(
            sorted(permissions if isinstance(permissions, list) else permissions.split(","))
        )
        exchange = {"grant_type": "ig_exchange_token", "client_secret": self._ig.app_secret}
        long = await self._graph("GET", "access_token", str(short["access_token"]), exchange)
        fields = {"fields": "user_id,username,name"}
        me = await self._graph("GET", "me", str(long["access_token"]), fields)
        account_id = str(me.get("user_id") or me.get("id") or user_id)
        return DiscoveredAccount(
            platform=Platform.INSTAGRAM,
            account_id=account_id,
            account_name=me.get("username") or me.get("name"),
            account={
                "ig_user_id": account_id,
                "username": str(me.get("username") or ""),
                "login": "instagram",
            },
            scopes=tuple(s for s in scopes if s),
            mode=RefreshMode.EXCHANGE,
            auth_server=AuthServer.INSTAGRAM,
            provider_user_id=account_id,
            tokens={SecretField.ACCESS: str(long["access_token"])},
            expires_at=self._expiry(long),
        )

    async def _graph(self, method: str, path: str, token: str, params: dict[str, str]) -> Any:
        """graph.instagram.com, token in the header; these endpoints are GET-only, so their
        non-token parameters (including the app secret for the exchange) are query params."""
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{self._ig.graph_url}/{path}"
        response = await send(self._ig.http, method, url, params=params, headers=headers)
        return graph_json(response)

    def _expiry(self, body: Mapping[str, Any]) -> Any:
        seconds = body.get("expires_in")
        return self._ig.clock.now() + timedelta(seconds=int(seconds)) if seconds else None

    async def refresh(
        self, integration: Integration, tokens: Mapping[SecretField, str]
    ) -> TokenGrant:
        if integration.auth_server is AuthServer.FACEBOOK:
            return await refresh_page_token(self._meta, integration, tokens[SecretField.USER])
        params = {"grant_type": "ig_refresh_token"}
        body = await self._graph("GET", "refresh_access_token", tokens[SecretField.ACCESS], params)
        return TokenGrant(access_token=str(body["access_token"]), expires_at=self._expiry(body))

    async def check(self, integration: Integration, tokens: Mapping[SecretField, str]) -> None:
        if integration.auth_server is AuthServer.FACEBOOK:
            await check_token(self._meta, tokens[SecretField.ACCESS])
            return
        await self._graph("GET", "me", tokens[SecretField.ACCESS], {"fields": "user_id"})

    async def revoke(self, integration: Integration, tokens: Mapping[SecretField, str]) -> bool:
        """Facebook Login: remove the app's permissions. Instagram Login has no revoke call."""
        user_token = tokens.get(SecretField.USER)
        if integration.auth_server is AuthServer.FACEBOOK and user_token:
            return await revoke_user(self._meta, integration, user_token)
        return False


def _exchange_body(response: httpx.Response) -> dict[str, Any]:
    """api.instagram.com answers `{"data": [{access_token, user_id, permissions}]}` (or the
    entry alone), and errors as `{"error_type", "code", "error_message"}`."""
    body = body_of(response)
    if not response.is_success or "error_type" in body or "error" in body:
        nested = body.get("error")
        error: dict[str, Any] = nested if isinstance(nested, dict) else body
        raise graph_error(response.status_code, {**error, "type": body.get("error_type")})
    data = body.get("data")
    entry = data[0] if isinstance(data, list) and data else body
    if not isinstance(entry, dict) or not entry.get("access_token"):
        msg = "Instagram answered the code exchange without an access token"
        raise NeedsReauth(msg, code="no_token")
    return entry
