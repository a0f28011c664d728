"""The Graph hosts, answered before FastAPI's own machinery.

Graph is the sandbox's hot path (WhatsApp sends and Instagram status polls under Herald's
benchmarks), and FastAPI's per-request layers (telemetry, body limits, error middleware, route
matching) cost as much as the Graph handlers themselves. So `SandboxApp`, still a FastAPI app,
hands a request whose first path segment is a Graph host straight to the Graph router and
everything else to FastAPI. An unexpected error answers like Graph's own unknown error; a
connection drop injected on purpose still reaches the server and closes the socket.
"""

from __future__ import annotations

import structlog
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from platform_sandbox.graph_errors import GraphError
from platform_sandbox.graph_router import GraphRouter
from platform_sandbox.ids import trace_id
from platform_sandbox.sandbox import Sandbox

log = structlog.get_logger(__name__)
GRAPH_HOSTS = {
    "graph.facebook.com": "graph.facebook.com",
    "graph-video.facebook.com": "graph.facebook.com",  # video uploads use this host
    "graph.instagram.com": "graph.instagram.com",
}


class GraphHosts:
    def __init__(self, graph: GraphRouter, sandbox: Sandbox) -> None:
        self.graph = graph
        self.sandbox = sandbox

    def host_of(self, scope: Scope) -> tuple[str, str] | None:
        """(Graph host, rest of the path) when `scope` is a Graph request."""
        if scope["type"] != "http" or scope["method"] not in ("GET", "POST", "DELETE"):
            return None
        prefix, _, rest = scope["path"][1:].partition("/")
        host = GRAPH_HOSTS.get(prefix)
        return None if host is None else (host, rest)

    async def handle(
        self, scope: Scope, receive: Receive, send: Send, target: tuple[str, str]
    ) -> None:
        host, rest = target
        try:
            response = await self.graph.handle(self.sandbox, Request(scope, receive), host, rest)
        except Exception:  # a sandbox bug answers as Graph's unknown error, and is logged
            log.exception("graph.unhandled_error", path=scope["path"])
            response = _unknown_error()
        await response(scope, receive, send)


def _unknown_error() -> Response:
    error = GraphError(1, "An unknown error has occurred.", status=500)
    return JSONResponse(error.body(trace_id(), "meta"), status_code=500)


class SandboxApp(FastAPI):
    """FastAPI, with the Graph hosts answered first (see the module docstring)."""

    graph_hosts: GraphHosts | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hosts = self.graph_hosts
        target = hosts.host_of(scope) if hosts is not None else None
        if hosts is not None and target is not None:
            await hosts.handle(scope, receive, send, target)
            return
        await super().__call__(scope, receive, send)
