"""Composition root of auth-service.

`create_app` builds every adapter (through `composition.build_components`); nothing else wires
things.
The lifespan connects to MongoDB and Kafka, creates the indexes and runs the refresh and outbox
loops.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import structlog
from fastapi import Depends, FastAPI
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from auth_service.adapters.mongo import ensure_indexes
from auth_service.api import (
    admin,
    business,
    embedded_signup,
    integrations,
    internal,
    oauth,
    people,
    webhooks,
)
from auth_service.api.common import install_error_handler, no_unknown_query
from auth_service.composition import SERVICE, Components, build_components
from auth_service.handlers.base import Deps, drain_outbox
from auth_service.handlers.maintenance import maintenance_pass, sweep
from auth_service.ports import Clock, EventEmitter
from auth_service.settings import Settings, is_local
from herald.bodylimits import install_body_limits
from herald.mongo import Document
from herald.service import add_operational_routes
from herald.stopping import cancel_and_wait

__all__ = ["SERVICE", "create_app", "mount"]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]
log = structlog.get_logger(__name__)


async def outbox_loop(deps: Deps, interval_s: float, min_age_s: float) -> None:
    """Send the integration events whose first send failed (or whose process died first)."""
    while True:
        try:
            await drain_outbox(deps, min_age_s=min_age_s)
        except Exception:
            log.exception("outbox.pass_failed")
        await asyncio.sleep(interval_s)


async def sweep_loop(deps: Deps, interval_s: float) -> None:
    """Without the refresh loop, expired states and old marks are still swept."""
    while True:
        try:
            await sweep(deps)
        except Exception:
            log.exception("sweep.pass_failed")
        await asyncio.sleep(interval_s)


async def refresh_loop(deps: Deps, interval_s: float) -> None:
    """Refresh ahead of expiry, clean up, update gauges; forever, one pass per interval."""
    while True:
        try:
            report = await maintenance_pass(deps)
            log.debug("refresh.pass", refreshed=report.refreshed, expired=report.expired)
        except Exception:
            log.exception("refresh.pass_failed")
        await asyncio.sleep(interval_s)


def create_app(
    settings: Settings,
    *,
    broker: KafkaBroker | None = None,
    mongo: AsyncMongoClient[Document] | None = None,
    http_client: httpx.AsyncClient | None = None,
    emitter: EventEmitter | None = None,
    clock: Clock | None = None,
) -> FastAPI:
    components = build_components(
        settings, broker=broker, mongo=mongo, http_client=http_client, emitter=emitter, clock=clock
    )
    db = components.infra.mongo[settings.database]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await components.infra.start()
        await ensure_indexes(db)
        events = settings.events
        loops = [
            asyncio.create_task(
                outbox_loop(components.deps, events.outbox_interval_s, events.outbox_min_age_s)
            )
        ]
        every = settings.refresh.interval_s
        background = refresh_loop if settings.refresh.enabled else sweep_loop
        loops.append(asyncio.create_task(background(components.deps, every)))
        try:
            yield
        finally:
            await cancel_and_wait(*loops)
            await components.close_http()
            await components.infra.stop()

    return mount(components, lifespan)


def dev_page_served(settings: Settings) -> bool:
    """`/dev/embedded-signup` only in local development runs against the sandbox."""
    return (
        settings.environment == "development"
        and is_local(settings)
        and settings.hosts.sandbox_url is not None
    )


def mount(components: Components, lifespan: Lifespan | None = None) -> FastAPI:
    """The HTTP app over a built components: routes, error mapping, operational endpoints."""
    settings = components.settings
    app = FastAPI(
        title="Herald auth-service",
        version="0.1.0",
        description="OAuth for four platforms, the encrypted token vault, API keys and tenancy.",
        lifespan=lifespan,
        dependencies=[Depends(no_unknown_query)],
    )
    app.state.deps = components.deps
    app.state.service_tokens = dict(settings.service_tokens)
    app.state.admin_token = settings.admin_token
    app.state.onboarding = components.onboarding
    app.state.people = components.people
    install_error_handler(app)
    oauth.document_state_required(app)
    install_body_limits(app, settings.http)
    # Before `integrations`, whose `/{integration_id}` routes would otherwise be tried first.
    for module in (
        oauth,
        embedded_signup,
        integrations,
        internal,
        admin,
        webhooks,
        people,
        business,
    ):
        app.include_router(module.router)
    app.include_router(people.admin_router)
    if dev_page_served(settings):
        app.state.dev_sandbox_url = settings.hosts.sandbox_url
        app.include_router(embedded_signup.dev_router)
    add_operational_routes(
        app, service=SERVICE, checks=components.infra.checks(), registry=components.registry
    )
    return app
