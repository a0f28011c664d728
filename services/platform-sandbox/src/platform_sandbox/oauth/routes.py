"""The authorization servers' own hosts: www.facebook.com, www.instagram.com,
api.instagram.com, www.tiktok.com and TikTok's token endpoints on open.tiktokapis.com."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from platform_sandbox.oauth import facebook, instagram, tiktok
from platform_sandbox.sandbox import Sandbox

Endpoint = Callable[[Request, Sandbox], Awaitable[Response]]
_PAGES: list[tuple[str, Endpoint, list[str]]] = [
    ("/www.facebook.com/{version}/dialog/oauth", facebook.dialog, ["GET", "POST"]),
    ("/www.facebook.com/dialog/oauth", facebook.dialog, ["GET", "POST"]),
    ("/www.instagram.com/oauth/authorize", instagram.authorize, ["GET", "POST"]),
    ("/api.instagram.com/oauth/access_token", instagram.exchange_code, ["POST"]),
    ("/www.tiktok.com/v2/auth/authorize/", tiktok.authorize, ["GET", "POST"]),
    ("/open.tiktokapis.com/v2/oauth/token/", tiktok.token, ["POST"]),
    ("/open.tiktokapis.com/v2/oauth/revoke/", tiktok.revoke, ["POST"]),
]


def bind(handler: Endpoint, sandbox: Sandbox) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handler(request, sandbox)

    return endpoint


def router(sandbox: Sandbox) -> APIRouter:
    api = APIRouter(tags=["oauth"])
    for path, handler, methods in _PAGES:
        api.add_api_route(path, bind(handler, sandbox), methods=methods, include_in_schema=False)
    return api
