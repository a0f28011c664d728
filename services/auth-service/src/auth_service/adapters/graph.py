"""The Meta app on Graph: the login dialog, code and long-lived exchanges, signed Graph calls.

Every call with a user, Page or system-user token carries `appsecret_proof` (HMAC-SHA256 of
the token keyed with the app secret) and sends the token in the `Authorization` header.
Exchanges are POSTed as form bodies so the app secret and codes stay out of URLs.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from auth_service.adapters.http import graph_json, send
from auth_service.ports import Clock


@dataclass(frozen=True)
class LongLived:
    token: str
    expires_at: datetime | None


@dataclass
class MetaApp:
    http: httpx.AsyncClient
    clock: Clock
    graph_url: str
    dialog_url: str
    version: str
    app_id: str
    app_secret: str

    def proof(self, token: str) -> str:
        return hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()

    def _url(self, path: str) -> str:
        return f"{self.graph_url}/{self.version}/{path.lstrip('/')}"

    def dialog(
        self,
        *,
        state: str,
        redirect_uri: str,
        scopes: list[str],
        code_challenge: str | None,
        config_id: str | None = None,
    ) -> str:
        params = {
            "client_id": self.app_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": ",".join(scopes),
        }
        if config_id:
            params["config_id"] = config_id
        if code_challenge:
            params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{self.dialog_url}/{self.version}/dialog/oauth?{urlencode(params)}"

    async def get(self, path: str, token: str, params: dict[str, str] | None = None) -> Any:
        query = (params or {}) | {"appsecret_proof": self.proof(token)}
        headers = {"Authorization": f"Bearer {token}"}
        response = await send(self.http, "GET", self._url(path), params=query, headers=headers)
        return graph_json(response)

    async def call(self, method: str, path: str, token: str, data: dict[str, str]) -> Any:
        body = data | {"appsecret_proof": self.proof(token)}
        headers = {"Authorization": f"Bearer {token}"}
        response = await send(self.http, method, self._url(path), data=body, headers=headers)
        return graph_json(response)

    async def _token_call(self, data: dict[str, str]) -> dict[str, Any]:
        body = data | {"client_id": self.app_id, "client_secret": self.app_secret}
        response = await send(self.http, "POST", self._url("oauth/access_token"), data=body)
        result: dict[str, Any] = graph_json(response)
        return result

    async def exchange_code(
        self, code: str, redirect_uri: str | None, code_verifier: str | None
    ) -> LongLived:
        """The token a code stands for (short-lived user token, or a business token)."""
        data = {"code": code}
        if redirect_uri:
            data["redirect_uri"] = redirect_uri
        if code_verifier:
            data["code_verifier"] = code_verifier
        return self._lived(await self._token_call(data))

    async def long_lived(self, user_token: str) -> LongLived:
        """`fb_exchange_token`: a short- or long-lived user token for a fresh long-lived one."""
        data = {"grant_type": "fb_exchange_token", "fb_exchange_token": user_token}
        return self._lived(await self._token_call(data))

    def _lived(self, body: dict[str, Any]) -> LongLived:
        token = str(body.get("access_token") or "")
        if not token:
            msg = "Graph answered a token exchange without an access_token"
            raise ValueError(msg)
        expires_in = body.get("expires_in")
        expires_at = self.clock.now() + timedelta(seconds=int(expires_in)) if expires_in else None
        return LongLived(token, expires_at)

    async def debug(self, token: str) -> dict[str, Any]:
        """`debug_token` with the app token. Graph takes the inspected token only as the
        `input_token` query parameter; this is the one URL that carries a token (README)."""
        app_token = f"{self.app_id}|{self.app_secret}"
        headers = {"Authorization": f"Bearer {app_token}"}
        params = {"input_token": token, "appsecret_proof": self.proof(app_token)}
        response = await send(
            self.http, "GET", self._url("debug_token"), params=params, headers=headers
        )
        data = graph_json(response).get("data")
        return data if isinstance(data, dict) else {}

    async def paged(self, path: str, token: str, fields: str) -> list[dict[str, Any]]:
        """Every item of a cursor-paged edge, following `after` cursors (never `next` URLs,
        which carry the token)."""
        items: list[dict[str, Any]] = []
        after: str | None = None
        for _ in range(50):
            params = {"fields": fields, "limit": "100"} | ({"after": after} if after else {})
            body = await self.get(path, token, params)
            items.extend(d for d in body.get("data", []) if isinstance(d, dict))
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not after or not paging.get("next"):
                break
        return items

    def expiry(self, unix: Any) -> datetime | None:
        """Graph's `expires_at` (0 = never) as a datetime."""
        try:
            value = int(unix)
        except (TypeError, ValueError):
            return None
        return datetime.fromtimestamp(value, UTC) if value > 0 else None
