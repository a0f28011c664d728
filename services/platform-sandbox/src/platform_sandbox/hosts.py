"""The Graph hosts as a plain ASGI layer in front of the FastAPI routes.

Graph is the sandbox's hot path (WhatsApp sends, Instagram status polls under Herald's
benchmarks). Its requests are dispatched here by their first path segment, the host name, and
skip FastAPI's route matching and per-route machinery; everything else goes on to FastAPI.
Errors still reach Starlette's outermost error middleware, so a dropped connection stays a
dropped connection.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from platform_sandbox.graph_router import GraphRouter
from platform_sandbox.runtime import Sandbox

GRAPH_HOSTS = {
    "graph.facebook.com": "graph.facebook.com",
    "graph-video.facebook.com": "graph.facebook.com",  # video uploads use this host
    "graph.instagram.com": "graph.instagram.com",
}


class GraphHosts:
    def __init__(self, app: ASGIApp, *, graph: GraphRouter, sandbox: Sandbox) -> None:
        self.app = app
        self.graph = graph
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "POST", "DELETE"):
            prefix, _, rest = scope["path"][1:].partition("/")
            host = GRAPH_HOSTS.get(prefix)
            if host is not None:
                request = Request(scope, receive)
                response = await self.graph.handle(self.sandbox, request, host, rest)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
