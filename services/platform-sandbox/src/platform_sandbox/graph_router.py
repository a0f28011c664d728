"""One Graph, many node types: resolve `/{id}/{edge}` by what the id names, then dispatch.

Graph serves Pages, Instagram accounts and WhatsApp numbers on the same host, and the same edge
name means different things on different nodes (`/{ig-user}/media` creates a container,
`/{phone-number}/media` uploads a file). So routes are registered per node kind and edge, and a
request is resolved by looking its id up, the way Graph answers "Unsupported get request" for an
id it cannot show you. Each call then passes, in order: fault injection, token and
`appsecret_proof` checks, asset access, permissions, usage accounting, and the handler.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from platform_sandbox.accounts import Node, NodeKind
from platform_sandbox.faults import FaultError, Target, run_with_fault
from platform_sandbox.graph import GraphRequest, check_appsecret_proof, parse_graph_request
from platform_sandbox.graph_auth import IG_HOST, graph_token, may_access
from platform_sandbox.graph_errors import (
    GraphError,
    internal_error,
    nonexisting_field,
    unknown_path,
    unsupported,
)
from platform_sandbox.ids import trace_id
from platform_sandbox.sandbox import Sandbox
from platform_sandbox.tokens import INSTAGRAM_KINDS, Token, TokenKind
from platform_sandbox.usage import Usage

Handler = Callable[["GraphCall"], Awaitable[dict[str, Any] | Response]]
_VERSION = re.compile(r"^v\d+\.\d+$")
_IG_KINDS = frozenset({NodeKind.IG_USER, NodeKind.IG_CONTAINER, NodeKind.IG_MEDIA})


@dataclass(frozen=True)
class Route:
    handler: Handler
    platform: str  # facebook, instagram, whatsapp, or meta (login, tokens)
    endpoint: str
    needs_token: bool = True
    scopes: frozenset[str] = frozenset()  # any one of these is enough
    scope_error: tuple[int, str] = (200, "Permissions error")


@dataclass
class GraphCall:
    sandbox: Sandbox
    req: GraphRequest
    token: Token | None
    node: Node | None
    rest: tuple[str, ...]
    route: Route

    @property
    def now(self) -> float:
        return self.sandbox.clock.now()

    def need_token(self) -> Token:
        if self.token is None:
            raise GraphError(104, "An access token is required to request this resource.")
        return self.token

    def need_node(self) -> Node:
        if self.node is None:
            raise unknown_path(self.req.path)
        return self.node


class GraphRouter:
    def __init__(self) -> None:
        self._nodes: dict[tuple[NodeKind, str | None, str], Route] = {}
        self._roots: dict[tuple[str, str, str], Route] = {}

    def node(self, kind: NodeKind, edge: str | None, method: str, route: Route) -> None:
        self._nodes[(kind, edge, method)] = route

    def root(self, host: str, path: str, methods: tuple[str, ...], route: Route) -> None:
        for method in methods:
            self._roots[(host, path, method)] = route

    async def handle(self, sandbox: Sandbox, request: Request, host: str, path: str) -> Response:
        trace = trace_id()
        segments = tuple(s for s in path.split("/") if s)
        version = segments[0] if segments and _VERSION.match(segments[0]) else None
        platform = "meta"
        # Every Graph answer carries these; built once, with the response (the hot path).
        base = {
            "facebook-api-version": version or sandbox.settings.meta.graph_version,
            "x-fb-trace-id": trace,
            "x-fb-request-id": trace_id(),
        }
        try:
            req = await parse_graph_request(request, host, version, segments[1 if version else 0 :])
            route, node, rest, token = self._resolve(req, sandbox)
            platform = route.platform
            call = GraphCall(sandbox, req, token, node, rest, route)
            target = Target(platform, route.endpoint, req.method, node.account if node else None)
            rule = sandbox.faults.match(target)
            return await run_with_fault(
                rule,
                lambda: _run(call, base),
                lambda error: _error_response(_fault_error(error), platform, base),
                hang_s=sandbox.settings.faults.hang_s,
            )
        except GraphError as exc:
            return _error_response(exc, platform, base)

    def _resolve(
        self, req: GraphRequest, sandbox: Sandbox
    ) -> tuple[Route, Node | None, tuple[str, ...], Token | None]:
        if not req.segments:
            raise unknown_path("")
        for size in (2, 1):
            root = self._roots.get((req.host, "/".join(req.segments[:size]), req.method))
            if root is not None and len(req.segments) == size:
                return root, None, (), None
        token: Token | None = None
        head = req.segments[0]
        if head == "me":
            token = _token(req, sandbox)
            head = token.subject
        node = sandbox.state.accounts.nodes.get(head)
        if node is None or (req.host == IG_HOST and node.kind not in _IG_KINDS):
            raise unsupported(req.method, req.segments[0])
        edge = req.segments[1] if len(req.segments) > 1 else None
        route = self._nodes.get((node.kind, edge, req.method))
        if route is None:
            if edge is not None and req.method == "GET":
                raise nonexisting_field(edge, node.kind.value)
            raise unsupported(req.method, req.segments[0])
        return route, node, req.segments[2:], token


def _token(req: GraphRequest, sandbox: Sandbox) -> Token:
    settings = sandbox.settings
    instagram = req.host == IG_HOST
    app = settings.instagram if instagram else settings.meta
    secret = app.app_secret.get_secret_value()
    token = graph_token(
        req.token,
        host=req.host,
        store=sandbox.state.tokens,
        now=sandbox.clock.now(),
        app=(app.app_id, secret),
    )
    check_appsecret_proof(
        req,
        secret=secret,
        required=settings.meta.require_appsecret_proof and not instagram,
        now=sandbox.clock.now(),
        tolerance_s=settings.meta.appsecret_time_tolerance_s,
    )
    return token


async def _run(call: GraphCall, base: dict[str, str]) -> Response:
    headers = base
    try:
        if call.route.needs_token:
            call.token = call.token or _token(call.req, call.sandbox)
            _authorize(call, call.token)
            usage = _count_usage(call, call.token)
            headers = base | usage.headers  # reported on the throttle error too, as Graph does
            if usage.throttle is not None:
                raise usage.throttle
        result = await call.route.handler(call)
    except GraphError as exc:
        return _error_response(exc, call.route.platform, headers)
    if isinstance(result, Response):
        result.headers.update(headers)
        return result
    return JSONResponse(result, headers=headers)


def _authorize(call: GraphCall, token: Token) -> None:
    accounts = call.sandbox.state.accounts
    if call.node is not None and not may_access(token, call.node, accounts):
        raise unsupported(call.req.method, call.node.id)
    needed = call.route.scopes
    if needed and token.kind is not TokenKind.APP and not needed & token.scopes:
        code, message = call.route.scope_error
        raise GraphError(code, message)


def _count_usage(call: GraphCall, token: Token) -> Usage:
    node, platform = call.node, call.route.platform
    buc: tuple[str, str] | None = None
    if node is not None and platform == "instagram":
        buc = ("instagram", node.account)
    elif node is not None and platform == "whatsapp":
        kind = "whatsapp" if call.route.endpoint in ("messages", "media") else None
        buc = (kind or "whatsapp_business_management", node.account)
    elif node is not None and token.kind in (TokenKind.PAGE, TokenKind.SYSTEM_USER):
        buc = ("pages", node.account)
    if token.kind in INSTAGRAM_KINDS and node is not None:
        buc = ("instagram", node.account)
    return call.sandbox.usage.count(app_id=token.app_id, buc=buc, now=call.now)


def _fault_error(error: FaultError | None) -> GraphError:
    if error is None or error.code is None:
        return internal_error()
    code = int(error.code)
    return GraphError(
        code, error.message or "Injected fault", subcode=error.subcode, status=error.status
    )


def _error_response(error: GraphError, platform: str, headers: dict[str, str]) -> Response:
    extra = dict(headers)
    if error.code == 190:
        extra["www-authenticate"] = f'OAuth "Facebook Platform" "invalid_token" "{error.message}"'
    body = error.body(headers["x-fb-trace-id"], platform)
    return JSONResponse(body, status_code=error.http_status(platform), headers=extra)
