"""Composition root of platform-sandbox. It keeps its state in memory and depends on nothing.

Each imitated host is served under a path prefix equal to its real name, so a client changes
only its base URL: `https://graph.facebook.com/v23.0/…` becomes
`http://127.0.0.1:8120/graph.facebook.com/v23.0/…`. The sandbox's own API is under `/_sandbox/`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from herald.bodylimits import BodyLimit, install_body_limits
from herald.httperrors import install_error_envelope
from herald.service import add_operational_routes
from herald.stopping import cancel_and_wait
from platform_sandbox.admin import routes as admin_routes
from platform_sandbox.facebook import routes as facebook_routes
from platform_sandbox.faults import QuietDrops
from platform_sandbox.graph_router import GraphRouter
from platform_sandbox.hosts import GraphHosts, SandboxApp
from platform_sandbox.instagram import routes as instagram_routes
from platform_sandbox.media import routes as media_routes
from platform_sandbox.oauth import facebook as facebook_oauth
from platform_sandbox.oauth import instagram as instagram_oauth
from platform_sandbox.oauth import routes as oauth_routes
from platform_sandbox.sandbox import Sandbox, build_sandbox
from platform_sandbox.settings import Settings
from platform_sandbox.steady import keep_collections_short
from platform_sandbox.tiktok import routes as tiktok_routes
from platform_sandbox.whatsapp import routes as whatsapp_routes
from platform_sandbox.whatsapp.media import download_router

SERVICE = "platform-sandbox"


def create_app(
    settings: Settings, *, http_client: httpx.AsyncClient | None = None, own_process: bool = False
) -> FastAPI:
    """Build the sandbox. `http_client` (tests) replaces the client used to fetch media and
    post webhooks; without it the lifespan opens one and closes it. `own_process` (the sandbox
    as a service) lets it steady the process's garbage collector (`steady.py`), which a test
    process hosting it must not have done to it."""
    sandbox = build_sandbox(settings, http_client)
    lifespan = _lifespan(sandbox, steady=own_process)
    app = SandboxApp(title="Herald platform sandbox", version="0.1.0", lifespan=lifespan)
    app.state.sandbox = sandbox
    add_operational_routes(app, service=SERVICE, checks={}, registry=CollectorRegistry())
    # The sandbox's own API answers Herald's envelope; an imitated host (a first path segment
    # that is a host name) keeps what the framework answers there.
    install_error_envelope(app, owns=lambda path: "." not in path.split("/", 2)[1])
    # A TikTok upload's last chunk may be 128 MB; the Graph hosts are answered before this.
    upload = BodyLimit(settings.tiktok.final_chunk_max_bytes, 10 * settings.http.body_timeout_s)
    install_body_limits(app, settings.http, {"/open-upload.tiktokapis.com/video/": upload})
    _mount_graph(app, sandbox)
    app.include_router(oauth_routes.router(sandbox))
    app.include_router(tiktok_routes.router(sandbox))
    app.include_router(download_router(sandbox))
    app.include_router(admin_routes.router(sandbox))
    app.include_router(media_routes.router(sandbox))
    return app


def _mount_graph(app: SandboxApp, sandbox: Sandbox) -> None:
    graph = GraphRouter()
    facebook_oauth.register(graph)
    instagram_oauth.register(graph)
    facebook_routes.register(graph)
    instagram_routes.register(graph)
    whatsapp_routes.register(graph)
    app.graph_hosts = GraphHosts(graph, sandbox)


def _lifespan(
    sandbox: Sandbox, *, steady: bool
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        quiet = QuietDrops()
        logging.getLogger("uvicorn.error").addFilter(quiet)
        sandbox.client.open(sandbox.settings.media.fetch_timeout_s)
        background = []
        if sandbox.settings.webhooks.auto_deliver:
            background.append(asyncio.create_task(sandbox.webhooks.run()))
        if steady and sandbox.settings.gc_freeze_every_s > 0:
            steadying = keep_collections_short(sandbox.settings.gc_freeze_every_s)
            background.append(asyncio.create_task(steadying))
        try:
            yield
        finally:
            await cancel_and_wait(*background)
            await sandbox.tasks.cancel_all()
            await sandbox.client.close()
            logging.getLogger("uvicorn.error").removeFilter(quiet)

    return lifespan
