"""WhatsApp media (platform-apis.md §3.3): upload (`POST /{phone-number-id}/media`, multipart
`file`, `type`, `messaging_product`), read (`GET /{media-id}`: a short-lived URL, mime type,
sha256, size), delete, and the download behind the URL, which needs the same bearer token.

Types and size caps follow Meta's table (image 5 MB, video and audio 16 MB, documents 100 MB,
stickers 500 KB); the declared type must match the file's own bytes where the sandbox can tell.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from platform_sandbox.accounts import NodeKind
from platform_sandbox.graph_auth import graph_token, may_access
from platform_sandbox.graph_errors import GraphError, missing_param
from platform_sandbox.graph_router import GraphCall
from platform_sandbox.ids import trace_id
from platform_sandbox.media.synthetic import sniff
from platform_sandbox.sandbox import Sandbox
from platform_sandbox.whatsapp.model import WaMedia

_TYPES = {
    "image/jpeg": ("image", "jpeg"),
    "image/png": ("image", "png"),
    "image/webp": ("sticker", "webp"),
    "video/mp4": ("video", "mp4"),
    "video/3gpp": ("video", None),
    "audio/aac": ("audio", None),
    "audio/amr": ("audio", None),
    "audio/mpeg": ("audio", None),
    "audio/mp4": ("audio", None),
    "audio/ogg": ("audio", None),
    "application/pdf": ("document", "pdf"),
    "text/plain": ("document", None),
    "application/msword": ("document", None),
    "application/vnd.ms-excel": ("document", None),
    "application/vnd.ms-powerpoint": ("document", None),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("document", None),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("document", None),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ("document", None),
}
LOOKASIDE = "/lookaside.fbsbx.com/whatsapp_business/attachments/"


def _upload_error(details: str) -> GraphError:
    return GraphError(131053, "Media upload error", details=details)


async def upload(call: GraphCall) -> dict[str, Any]:
    params, settings = call.req.params, call.sandbox.settings.whatsapp
    if params.text("messaging_product") != "whatsapp":
        raise missing_param("messaging_product")
    file = call.req.files.get("file")
    if file is None:
        raise missing_param("file")
    mime = (params.text("type") or file.content_type or "").split(";")[0].strip().lower()
    if mime not in _TYPES:
        raise _upload_error(
            f"Param file must be a file with one of the supported types, not {mime}."
        )
    category, magic = _TYPES[mime]
    limit = getattr(settings, f"{category}_max_bytes")
    if len(file.data) > limit:
        raise _upload_error(f"The {category} file is larger than {limit} bytes.")
    if magic is not None and sniff(file.data[:65536]).kind != magic:
        raise _upload_error(f"The file content does not match the type {mime}.")
    state = call.sandbox.state
    media = WaMedia(
        state.ids.graph("wa_media"),
        call.need_node().id,
        mime,
        file.data,
        hashlib.sha256(file.data).hexdigest(),
        call.now,
    )
    state.whatsapp.media[media.id] = media
    state.accounts.nodes.add(NodeKind.WA_MEDIA, media.id, media.phone_number_id)
    return {"id": media.id}


async def retrieve(call: GraphCall) -> dict[str, Any]:
    media = call.sandbox.state.whatsapp.media[call.need_node().id]
    query = f"mid={media.id}&ext={int(call.now)}&hash={media.sha256[:16]}"
    url = f"{call.sandbox.base_url(call.req.headers)}{LOOKASIDE}?{query}"
    return {
        "messaging_product": "whatsapp",
        "url": url,
        "mime_type": media.mime_type,
        "sha256": media.sha256,
        "file_size": str(len(media.data)),
        "id": media.id,
    }


async def delete(call: GraphCall) -> dict[str, Any]:
    state = call.sandbox.state
    state.whatsapp.media.pop(call.need_node().id, None)
    state.accounts.nodes.remove(call.need_node().id)
    return {"success": True}


def download_router(sandbox: Sandbox) -> APIRouter:
    api = APIRouter(tags=["whatsapp"])

    async def download(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        value = header.partition(" ")[2].strip() or None
        settings = sandbox.settings.meta
        media = sandbox.state.whatsapp.media.get(request.query_params.get("mid", ""))
        node = sandbox.state.accounts.nodes.get(media.id) if media else None
        try:
            token = graph_token(
                value,
                host="graph.facebook.com",
                store=sandbox.state.tokens,
                now=sandbox.clock.now(),
                app=(settings.app_id, settings.app_secret.get_secret_value()),
            )
        except GraphError as exc:
            return JSONResponse(exc.body(trace_id(), "whatsapp"), status_code=401)
        if media is None or node is None or not may_access(token, node, sandbox.state.accounts):
            return JSONResponse({"error": "not found"}, status_code=404)
        return Response(media.data, media_type=media.mime_type)

    api.add_api_route(LOOKASIDE, download, methods=["GET"], include_in_schema=False)
    return api
