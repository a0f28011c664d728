"""A request body arrives whole, in time and within its size, or the request is answered without
reaching the app: 413 when it is (or says it is) larger than its route accepts, 408 when it has
not arrived within its route's time, and the connection is closed.

uvicorn bounds idle connections (keep-alive) but not a body in flight: a request whose
`Content-Length` promises more than it sends held a worker's connection for as long as the client
liked (45 s and more, issue 19). Every Herald service installs this middleware
(`install_body_limits`) with a default limit from its `http` settings and larger
ones for the routes that take files (the scheduler's contact imports).

The body is read here, once, and handed to the app from memory; the limits bound that memory.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from herald.settings import HttpServerSettings

# ASGI's shapes (as Starlette names them), without depending on Starlette here.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class BodyLimit:
    max_bytes: int
    timeout_s: float  # from the request's start to the body's last byte


class BodyLimits:
    """ASGI middleware. `routes` maps route templates (`/v1/audiences/{audience_id}/imports`)
    to their own limits; any other request gets `default`."""

    def __init__(
        self, app: ASGIApp, *, default: BodyLimit, routes: Mapping[str, BodyLimit] | None = None
    ) -> None:
        self._app = app
        self._default = default
        self._routes = [(template_pattern(t), limit) for t, limit in (routes or {}).items()]

    def limit_for(self, path: str) -> BodyLimit:
        for pattern, limit in self._routes:
            if pattern.match(path):
                return limit
        return self._default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        declared = headers.get(b"content-length", b"").strip()
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        if not chunked and declared in (b"", b"0"):
            await self._app(scope, receive, send)  # no body to wait for
            return
        limit = self.limit_for(scope["path"])
        if declared.isdigit() and int(declared) > limit.max_bytes:
            await _refuse(send, 413, "too_large", _too_large(limit))
            return
        body = await _read(receive, limit)
        if isinstance(body, tuple):
            status, code, message = body
            await _refuse(send, status, code, message)
            return
        if body is None:
            return  # the client went away
        await self._app(scope, _replay(body, receive), send)


async def _read(receive: Receive, limit: BodyLimit) -> bytes | tuple[int, str, str] | None:
    """The whole body; a refusal (status, code, message); or None if the client disconnected."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit.timeout_s
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            message = await asyncio.wait_for(receive(), timeout=max(deadline - loop.time(), 0))
        except TimeoutError:
            text = (
                f"the body did not arrive within {limit.timeout_s:g} s; send it whole and at once"
            )
            return 408, "request_timeout", text
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit.max_bytes:
            return 413, "too_large", _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def template_pattern(template: str) -> re.Pattern[str]:
    """A route template's paths: `{name}` is one segment, `{name:path}` the rest."""
    parts = re.split(r"(\{[^}]+\})", template)
    pattern = "".join(
        (".*" if p.endswith(":path}") else "[^/]+") if p.startswith("{") else re.escape(p)
        for p in parts
    )
    return re.compile(f"^{pattern}$")


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the server's disconnect, when it comes

    return replay


def _too_large(limit: BodyLimit) -> str:
    return f"this route accepts a body of at most {limit.max_bytes} bytes"


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    """The envelope (`herald.httperrors`), and the connection closed: the rest of the body, if
    it ever comes, is not read."""
    payload = json.dumps({"error": code, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def install_body_limits(
    app: FastAPI, http: HttpServerSettings, routes: Mapping[str, BodyLimit] | None = None
) -> None:
    """The service's default limit from its `http` settings, and `routes`' own."""
    default = BodyLimit(http.max_body_bytes, http.body_timeout_s)
    app.add_middleware(BodyLimits, default=default, routes=routes)
