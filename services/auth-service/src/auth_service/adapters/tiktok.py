"""TikTok Login Kit v2 (platform-apis.md §4.1): authorize with PKCE S256, token, refresh with
rotation, revoke. All token calls are form POSTs; the access token travels as a Bearer header.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from auth_service.adapters.http import send, tiktok_json
from auth_service.domain import (
    AuthServer,
    DiscoveredAccount,
    Integration,
    RefreshMode,
    SecretField,
    TokenGrant,
)
from auth_service.ports import AuthorizeRequest, Clock
from herald.errors import NeedsReauth, Permanent
from herald.topics import Platform


class TikTokGateway:
    platform = Platform.TIKTOK

    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        clock: Clock,
        authorize_url: str,
        api_url: str,
        client_key: str,
        client_secret: str,
        scopes: list[str],
        pkce: bool,
    ) -> None:
        self._http = http
        self._clock = clock
        self._authorize_url = authorize_url
        self._api = api_url
        self._key = client_key
        self._secret = client_secret
        self._scopes = scopes
        self._pkce = pkce

    def auth_servers(self) -> tuple[AuthServer, ...]:
        return (AuthServer.TIKTOK,)

    def uses_pkce(self, auth_server: AuthServer) -> bool:
        del auth_server
        return self._pkce

    def authorize_url(self, request: AuthorizeRequest) -> str:
        params = {
            "client_key": self._key,
            "scope": ",".join(self._scopes),
            "response_type": "code",
            "redirect_uri": request.redirect_uri,
            "state": request.state,
        }
        if request.code_challenge:
            params |= {"code_challenge": request.code_challenge, "code_challenge_method": "S256"}
        return f"{self._authorize_url}/v2/auth/authorize/?{urlencode(params)}"

    async def _token(self, form: dict[str, str]) -> dict[str, Any]:
        body = form | {"client_key": self._key, "client_secret": self._secret}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        url = f"{self._api}/v2/oauth/token/"
        response = await send(self._http, "POST", url, data=body, headers=headers)
        result = tiktok_json(response)
        if not result.get("access_token"):
            msg = "TikTok answered without an access token"
            raise NeedsReauth(msg, code="no_token")
        return result

    def _at(self, seconds: Any) -> datetime | None:
        return self._clock.now() + timedelta(seconds=int(seconds)) if seconds else None

    async def connect(
        self, *, auth_server: AuthServer, code: str, redirect_uri: str, code_verifier: str | None
    ) -> list[DiscoveredAccount]:
        del auth_server
        form = {"code": code, "grant_type": "authorization_code", "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        body = await self._token(form)
        open_id = str(body.get("open_id") or "")
        access = str(body["access_token"])
        tokens = {SecretField.ACCESS: access}
        if body.get("refresh_token"):
            tokens[SecretField.REFRESH] = str(body["refresh_token"])
        profile = await self._profile(access)
        scope = str(body.get("scope") or "")
        return [
            DiscoveredAccount(
                platform=Platform.TIKTOK,
                account_id=open_id,
                account_name=profile.get("display_name") or profile.get("username"),
                account={"open_id": open_id, "username": str(profile.get("username") or "")},
                scopes=tuple(sorted(s for s in scope.split(",") if s)),
                mode=RefreshMode.ROTATE,
                auth_server=AuthServer.TIKTOK,
                provider_user_id=open_id,
                tokens=tokens,
                expires_at=self._at(body.get("expires_in")),
                refresh_expires_at=self._at(body.get("refresh_expires_in")),
            )
        ]

    async def _profile(self, access: str) -> dict[str, Any]:
        """The creator's name, if the user info endpoint answers; a missing name is no reason
        to fail a connection, an invalid token is."""
        url = f"{self._api}/v2/user/info/"
        headers = {"Authorization": f"Bearer {access}"}
        params = {"fields": "open_id,display_name,username"}
        try:
            response = await send(self._http, "GET", url, params=params, headers=headers)
            body = tiktok_json(response)
        except Permanent:
            return {}
        user = (body.get("data") or {}).get("user")
        return user if isinstance(user, dict) else {}

    async def refresh(
        self, integration: Integration, tokens: Mapping[SecretField, str]
    ) -> TokenGrant:
        del integration
        refresh = tokens.get(SecretField.REFRESH)
        if not refresh:
            msg = "no refresh token stored"
            raise NeedsReauth(msg, code="invalid_grant")
        body = await self._token({"grant_type": "refresh_token", "refresh_token": refresh})
        scope = str(body.get("scope") or "")
        return TokenGrant(
            access_token=str(body["access_token"]),
            expires_at=self._at(body.get("expires_in")),
            refresh_token=str(body.get("refresh_token") or "") or None,
            refresh_expires_at=self._at(body.get("refresh_expires_in")),
            scopes=tuple(sorted(s for s in scope.split(",") if s)) or None,
        )

    async def check(self, integration: Integration, tokens: Mapping[SecretField, str]) -> None:
        del integration
        url = f"{self._api}/v2/user/info/"
        headers = {"Authorization": f"Bearer {tokens[SecretField.ACCESS]}"}
        response = await send(self._http, "GET", url, params={"fields": "open_id"}, headers=headers)
        tiktok_json(response)

    async def revoke(self, integration: Integration, tokens: Mapping[SecretField, str]) -> bool:
        del integration
        form = {
            "client_key": self._key,
            "client_secret": self._secret,
            "token": tokens[SecretField.ACCESS],
        }
        url = f"{self._api}/v2/oauth/revoke/"
        response = await send(self._http, "POST", url, data=form)
        tiktok_json(response)
        return True
