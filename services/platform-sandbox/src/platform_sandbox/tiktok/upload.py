"""`PUT {upload_url}`: one chunk of a FILE_UPLOAD video (media transfer guide; rules in
`chunks.py`). The body is streamed and counted, never kept; the first bytes are kept to check
that the file is a video once processing starts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from platform_sandbox.faults import Target, run_with_fault
from platform_sandbox.media.synthetic import sniff
from platform_sandbox.sandbox import Sandbox
from platform_sandbox.tiktok.calls import fault_error
from platform_sandbox.tiktok.chunks import parse_range, put_problem
from platform_sandbox.tiktok.envelope import TikTokError
from platform_sandbox.tiktok.lifecycle import check_kind, transfer_done
from platform_sandbox.tiktok.model import UploadSession

_VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/webm"})
HEAD = 64


async def put_chunk(request: Request, sandbox: Sandbox) -> Response:
    session = sandbox.state.tiktok.uploads.get(request.query_params.get("upload_id", ""))
    publish = sandbox.state.tiktok.publishes.get(session.publish_id) if session else None
    account = publish.open_id if publish else None
    rule = sandbox.faults.match(Target("tiktok", "upload", "PUT", account))

    async def run() -> Response:
        try:
            return await _accept(request, sandbox, session)
        except TikTokError as exc:
            return exc.response()

    return await run_with_fault(
        rule, run, lambda e: fault_error(e).response(), hang_s=sandbox.settings.faults.hang_s
    )


async def _accept(request: Request, sandbox: Sandbox, session: UploadSession | None) -> Response:
    if session is None or request.query_params.get("upload_token") != session.upload_token:
        raise TikTokError(404, "upload_not_found", "No upload task matches this URL.")
    if sandbox.clock.now() >= session.expires_at:
        raise TikTokError(403, "upload_url_expired", "The upload URL has expired.")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in _VIDEO_TYPES:
        raise TikTokError(
            400,
            "invalid_file_upload",
            "Content-Type must be video/mp4, video/quicktime or video/webm.",
        )
    rng = parse_range(request.headers.get("content-range"))
    if rng is None:
        raise TikTokError(
            400, "invalid_file_upload", "Content-Range must read bytes {first}-{last}/{total}."
        )
    problem = put_problem(
        rng,
        received=session.received,
        chunks_done=session.chunks,
        video_size=session.video_size,
        chunk_size=session.chunk_size,
        total=session.total_chunks,
    )
    if problem is not None:
        status, message = problem
        raise TikTokError(
            status, "invalid_file_upload" if status == 400 else "range_not_satisfiable", message
        )
    length, head = await _drain(request, rng.last - rng.first + 1)
    if length != rng.last - rng.first + 1:
        raise TikTokError(
            400, "invalid_file_upload", "The body length does not match Content-Range."
        )
    return _advance(sandbox, session, length, head)


async def _drain(request: Request, limit: int) -> tuple[int, bytes]:
    size, head = 0, b""
    async for chunk in request.stream():
        size += len(chunk)
        if len(head) < HEAD:
            head += chunk[: HEAD - len(head)]
        if size > limit:
            break
    return size, head


def _advance(sandbox: Sandbox, session: UploadSession, length: int, head: bytes) -> Response:
    if session.chunks == 0:
        session.head = head
    session.received += length
    session.chunks += 1
    publish = sandbox.state.tiktok.publishes[session.publish_id]
    publish.transferred_bytes = session.received
    progress = {"content-range": f"bytes 0-{session.received - 1}/{session.video_size}"}
    if session.chunks < session.total_chunks:
        return Response(status_code=206, headers=progress)
    check_kind(publish, sniff(session.head).kind)
    transfer_done(sandbox, publish)
    return Response(status_code=201, headers=progress)
