"""Composition root of scheduler.

`create_app` builds every adapter; nothing else wires things. Tests pass fakes of the
auth-service ports, their own emitter or clock, and an isolated topic prefix and database.
What runs in the background between startup and shutdown is built in `scheduler.workers`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime

import httpx
import structlog
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from herald.bodylimits import BodyLimit, install_body_limits
from herald.emitter import EventEmitter, KafkaEmitter
from herald.infra import Infra
from herald.mongo import Document
from herald.service import add_operational_routes
from herald.topics import TopicNames
from scheduler.adapters.auth import auth_ports
from scheduler.api import audiences, campaigns, posts
from scheduler.api.common import install_error_handlers
from scheduler.dispatcher import Dispatcher
from scheduler.environment import refuse_unfit
from scheduler.handlers.base import Deps, utcnow
from scheduler.metrics import SchedulerMetrics
from scheduler.ports import ApiKeys, Integrations
from scheduler.settings import Settings
from scheduler.webhooks import wiring as webhooks
from scheduler.workers import build_stores, build_workers

SERVICE = "scheduler"
log = structlog.get_logger(__name__)


def create_app(
    settings: Settings,
    *,
    broker: KafkaBroker | None = None,
    mongo: AsyncMongoClient[Document] | None = None,
    api_keys: ApiKeys | None = None,
    integrations: Integrations | None = None,
    emitter: EventEmitter | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    refuse_unfit(settings)  # before anything is built: every unfit setting named at once
    registry = CollectorRegistry()
    names = TopicNames(prefix=settings.topic_prefix)
    infra = Infra.build(
        kafka=settings.kafka,
        mongo=settings.mongo,
        client_id=f"herald-{SERVICE}",
        broker=broker,
        mongo_client=mongo,
        registry=registry,
        topics=names.for_service(SERVICE).names,
    )
    metrics = SchedulerMetrics.create(registry)
    stores = build_stores(infra.mongo, settings.database)
    http: httpx.AsyncClient | None = None
    if api_keys is None or integrations is None:
        default_keys, default_integrations, http = auth_ports(settings)
        api_keys = api_keys or default_keys
        integrations = integrations or default_integrations
    deps = Deps(
        posts=stores.posts,
        dispatch=stores.dispatch,
        view=stores.view,
        integrations=integrations,
        campaigns=stores.campaigns,
        audiences=stores.audiences,
        recipients=stores.recipients,
        emitter=emitter or KafkaEmitter(infra.broker, source=f"herald/{SERVICE}"),
        names=names,
        clock=clock,
        lease_s=settings.dispatch.claim_lease_s,
        batch_size=settings.broadcasts.batch_size,
        limits=settings.rules.limits(),
    )
    workers = build_workers(
        settings,
        infra=infra,
        stores=stores,
        deps=deps,
        metrics=metrics,
        http=http,
        registry=registry,
        keys=api_keys,
        group=f"{settings.topic_prefix}herald-{SERVICE}",
    )
    db, host = infra.mongo[settings.database], settings.http.host  # host: webhook secrets' key
    production = settings.environment == "production"
    hooks = webhooks.build(
        db,
        deps,
        settings.webhooks,
        workers.loops,
        metrics.webhooks,
        host=host,
        production=production,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await workers.start()
        try:
            yield
        finally:
            await workers.stop()

    app = FastAPI(
        title="Herald scheduler",
        version="0.1.0",
        description="Submit, schedule and follow posts across connected social accounts.",
        lifespan=lifespan,
    )
    checks = dict(infra.checks())
    if settings.dispatch.enabled:
        checks["dispatcher"] = _dispatcher_check(workers.dispatcher)
    add_operational_routes(app, service=SERVICE, checks=checks, registry=registry)
    install_error_handlers(app)
    imports = BodyLimit(settings.audiences.import_max_bytes, settings.audiences.import_timeout_s)
    install_body_limits(app, settings.http, {"/v1/audiences/{audience_id}/imports": imports})
    app.include_router(posts.router)
    app.include_router(campaigns.router)
    app.include_router(audiences.router)
    app.include_router(audiences.opt_outs)
    webhooks.mount(app, hooks)  # /v1/webhooks and /v1/rejections (ADR 0021)
    stores.analytics.install(app, settings.analytics_refresh)
    app.state.deps = deps
    app.state.infra = infra
    app.state.audience_settings = settings.audiences
    app.state.api_keys = api_keys
    app.state.dispatcher = workers.dispatcher
    app.state.metrics = metrics
    return app


def _dispatcher_check(dispatcher: Dispatcher) -> Callable[[], Awaitable[None]]:
    async def check() -> None:
        problem = dispatcher.problem()
        if problem is not None:
            raise RuntimeError(problem)

    return check
