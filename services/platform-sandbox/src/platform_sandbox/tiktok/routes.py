"""TikTok's hosts: open.tiktokapis.com (Content Posting and Display APIs) and the upload host
open-upload.tiktokapis.com. Per-token limits per platform-apis.md §4.2 and §4.3."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from platform_sandbox.sandbox import Sandbox
from platform_sandbox.tiktok import display, publish, upload
from platform_sandbox.tiktok.calls import Handler, Spec, handle

API = "/open.tiktokapis.com/v2"
_PUBLISH = frozenset({"video.publish"})
_UPLOAD = frozenset({"video.upload"})
_ROUTES: list[tuple[str, str, Spec, Handler]] = [
    (
        "POST",
        "/post/publish/creator_info/query/",
        Spec("creator_info/query", _PUBLISH, "creator_info_per_minute"),
        publish.creator_info,
    ),
    (
        "POST",
        "/post/publish/video/init/",
        Spec("video/init", _PUBLISH, "init_per_minute"),
        publish.video_init,
    ),
    (
        "POST",
        "/post/publish/inbox/video/init/",
        Spec("inbox/video/init", _UPLOAD, "init_per_minute"),
        publish.inbox_init,
    ),
    (
        "POST",
        "/post/publish/content/init/",
        Spec("content/init", _PUBLISH | _UPLOAD, "init_per_minute"),
        publish.content_init,
    ),
    (
        "POST",
        "/post/publish/status/fetch/",
        Spec("status/fetch", _PUBLISH | _UPLOAD, "status_per_minute"),
        publish.status_fetch,
    ),
    (
        "POST",
        "/post/publish/cancel/",
        Spec("cancel", _PUBLISH | _UPLOAD, "status_per_minute"),
        publish.cancel,
    ),
    (
        "GET",
        "/user/info/",
        Spec("user/info", frozenset({"user.info.basic"}), "display_per_minute"),
        display.user_info,
    ),
    (
        "POST",
        "/video/query/",
        Spec("video/query", frozenset({"video.list"}), "display_per_minute"),
        display.video_query,
    ),
    (
        "POST",
        "/video/list/",
        Spec("video/list", frozenset({"video.list"}), "display_per_minute"),
        display.video_list,
    ),
]


def _endpoint(
    sandbox: Sandbox, spec: Spec, handler: Handler
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await handle(sandbox, request, spec, handler)

    return endpoint


def router(sandbox: Sandbox) -> APIRouter:
    api = APIRouter(tags=["tiktok"])
    for method, path, spec, handler in _ROUTES:
        api.add_api_route(
            API + path, _endpoint(sandbox, spec, handler), methods=[method], include_in_schema=False
        )

    async def put(request: Request) -> Response:
        return await upload.put_chunk(request, sandbox)

    api.add_api_route(
        "/open-upload.tiktokapis.com/video/", put, methods=["PUT"], include_in_schema=False
    )
    return api
