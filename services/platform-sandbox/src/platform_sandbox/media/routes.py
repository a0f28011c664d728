"""`GET|HEAD /_sandbox/media/{name}.{ext}?bytes=N&width=W&height=H`: a synthetic file of that
kind and exact size, streamed; `status=NNN` answers that status instead (to test failures).
Kinds: jpg, jpeg, png, webp, mp4, mov, pdf, bin."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, HTTPException, Query
from starlette.responses import Response, StreamingResponse

from platform_sandbox.media.synthetic import KINDS, generate, minimum_size
from platform_sandbox.sandbox import Sandbox


def router(sandbox: Sandbox) -> APIRouter:
    api = APIRouter(prefix="/_sandbox/media", tags=["sandbox: media"])
    limit = sandbox.settings.media.synthetic_max_bytes

    @api.head("/{name}", include_in_schema=False)  # documented once, under GET
    @api.get("/{name}")
    async def synthetic(
        name: str,
        size: int | None = Query(default=None, alias="bytes", ge=0),
        width: int = Query(default=1080, ge=1, le=16_384),
        height: int = Query(default=1080, ge=1, le=16_384),
        status: int = Query(default=200, ge=200, le=599),
    ) -> Response:
        ext = name.rsplit(".", 1)[-1].lower()
        kind = KINDS.get(ext)
        if kind is None:
            raise HTTPException(404, f"unknown media kind .{ext}; use one of {sorted(KINDS)}")
        if status != 200:
            return Response(status_code=status)
        total = kind.default_bytes if size is None else size
        if not minimum_size(ext) <= total <= limit:
            raise HTTPException(400, f"bytes must be between {minimum_size(ext)} and {limit}")
        headers = {"content-length": str(total), "cache-control": "no-store"}

        async def body() -> AsyncIterator[bytes]:
            for chunk in generate(ext, total, width, height):
                yield chunk

        return StreamingResponse(body(), media_type=kind.mime, headers=headers)

    return api
