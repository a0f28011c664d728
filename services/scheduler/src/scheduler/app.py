"""Composition root of scheduler.

`create_app` builds every adapter; nothing else wires things. Tests pass fakes of the
auth-service ports, their own emitter or clock, and an isolated topic prefix and database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from herald.bodylimits import BodyLimit, install_body_limits
from herald.emitter import EventEmitter, KafkaEmitter
from herald.infra import Infra
from herald.mongo import Document
from herald.retention import DAY_S, Retention, Rule
from herald.service import add_operational_routes
from herald.stopping import cancel_and_wait
from herald.topics import TopicNames
from scheduler.adapters.audiences import MongoAudiences
from scheduler.adapters.auth import auth_ports
from scheduler.adapters.campaigns import MongoCampaigns
from scheduler.adapters.dispatch import MongoDispatch, MongoIntegrations
from scheduler.adapters.posts import MongoPosts
from scheduler.adapters.recipients import MongoRecipients
from scheduler.analytics.wiring import Analytics
from scheduler.api import audiences, campaigns, posts
from scheduler.api.common import install_error_handlers
from scheduler.dispatcher import Dispatcher
from scheduler.expander import Expander
from scheduler.handlers.base import Deps, utcnow
from scheduler.handlers.campaigns import run_pass
from scheduler.handlers.dispatch import DispatchHandler
from scheduler.metrics import SchedulerMetrics
from scheduler.models import TargetState
from scheduler.ports import ApiKeys, Integrations
from scheduler.settings import SchedulerRetentionSettings, Settings
from scheduler.subscribers import Subscribers
from scheduler.webhooks import wiring as webhooks

SERVICE = "scheduler"
log = structlog.get_logger(__name__)


@dataclass
class Stores:
    posts: MongoPosts
    dispatch: MongoDispatch
    view: MongoIntegrations
    campaigns: MongoCampaigns
    audiences: MongoAudiences
    recipients: MongoRecipients
    analytics: Analytics  # insights snapshots (ADR 0020)

    async def ensure_indexes(self) -> None:
        await self.posts.ensure_indexes()
        await self.dispatch.ensure_indexes()
        await self.campaigns.ensure_indexes()
        await self.audiences.ensure_indexes()
        await self.recipients.ensure_indexes()
        await self.analytics.ensure_indexes()


def build_stores(mongo: AsyncMongoClient[Document], database: str) -> Stores:
    db = mongo[database]
    return Stores(
        MongoPosts(db),
        MongoDispatch(db),
        MongoIntegrations(db),
        MongoCampaigns(db),
        MongoAudiences(db),
        MongoRecipients(db),
        Analytics(db),
    )


@dataclass
class Workers:
    """What runs between startup and shutdown: clients, dispatcher, consumers, loops."""

    infra: Infra
    stores: Stores
    dispatcher: Dispatcher
    expander: Expander
    subscribers: Subscribers
    loops: list[Callable[[], Coroutine[Any, Any, None]]]
    http: httpx.AsyncClient | None
    dispatch_enabled: bool
    expand_enabled: bool
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        await self.infra.start_mongo()
        await self.stores.ensure_indexes()
        await self.infra.start_broker()
        if self.dispatch_enabled:
            self.dispatcher.start()
        if self.expand_enabled:
            self.expander.start()
        self.tasks = [asyncio.create_task(loop()) for loop in self.loops]

    async def stop(self) -> None:
        await cancel_and_wait(*self.tasks)
        await self.expander.stop()
        await self.dispatcher.stop()
        self.subscribers.close()
        self.stores.analytics.close()
        await self.infra.stop_broker()
        if self.http is not None:
            await self.http.aclose()
        await self.infra.mongo.close()


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
    workers = _workers(
        settings,
        infra=infra,
        stores=stores,
        deps=deps,
        metrics=metrics,
        http=http,
        registry=registry,
        keys=api_keys,
    )
    db, host = infra.mongo[settings.database], settings.http.host  # host: webhook secrets' key
    hooks = webhooks.build(db, deps, settings.webhooks, workers.loops, metrics.webhooks, host=host)

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
    stores.analytics.install(app)
    app.state.deps = deps
    app.state.infra = infra
    app.state.audience_settings = settings.audiences
    app.state.api_keys = api_keys
    app.state.dispatcher = workers.dispatcher
    app.state.metrics = metrics
    return app


def _workers(
    settings: Settings,
    *,
    infra: Infra,
    stores: Stores,
    deps: Deps,
    metrics: SchedulerMetrics,
    http: httpx.AsyncClient | None,
    registry: CollectorRegistry,
    keys: ApiKeys,
) -> Workers:
    handler = DispatchHandler(
        deps, owner=settings.instance_id, lease_s=settings.dispatch.claim_lease_s
    )
    dispatcher = Dispatcher(handler, stores.dispatch, metrics, settings.dispatch, clock=deps.clock)
    if settings.dispatch.enabled:
        deps.notify = dispatcher.notify
    expander = Expander(deps, metrics, settings.broadcasts, owner=settings.instance_id)
    if settings.broadcasts.enabled:
        deps.notify_broadcast = expander.notify
    subscribers = Subscribers(deps, metrics, keys, settings.ingest)
    subscribers.register(infra.broker, group=f"{settings.topic_prefix}herald-{SERVICE}")
    stores.analytics.subscribe(infra.broker, deps, group=f"{settings.topic_prefix}herald-{SERVICE}")
    loops: list[Callable[[], Coroutine[Any, Any, None]]] = [
        lambda: _refresh_gauge(stores, metrics, settings.metrics_refresh_s)
    ]
    if settings.retention.enabled:
        db = infra.mongo[settings.database]
        loops.append(retention(db, settings.retention, registry).run_forever)
    if settings.campaigns.enabled:
        loops.append(lambda: _campaign_loop(deps, settings, metrics))
    return Workers(
        infra,
        stores,
        dispatcher,
        expander,
        subscribers,
        loops,
        http,
        settings.dispatch.enabled,
        settings.broadcasts.enabled,
    )


def retention(
    db: AsyncDatabase[Document], keep: SchedulerRetentionSettings, registry: CollectorRegistry
) -> Retention:
    """The sweep of what only grows otherwise: claims and dispatch facts (needed while a target
    is being dispatched, minutes), kept rejections, and, much later, history (ADR 0006)."""
    rules = [
        Rule("claims", "claimed_at"),
        Rule("dispatches", "dispatched_at"),
        Rule("rejections", "rejected_at"),
        Rule("history", "at", keep_s=keep.history_keep_days * DAY_S),
    ]
    return Retention(
        db, rules, keep_s=keep.keep_days * DAY_S, every_s=keep.every_s, registry=registry
    )


def _dispatcher_check(dispatcher: Dispatcher) -> Callable[[], Awaitable[None]]:
    async def check() -> None:
        problem = dispatcher.problem()
        if problem is not None:
            raise RuntimeError(problem)

    return check


# Finished targets (published, failed, cancelled) only grow: they are counted as they finish, by
# herald_scheduler_results_total, not recounted from the store every period.
UNFINISHED = tuple(
    s.value
    for s in (
        TargetState.DRAFT,
        TargetState.SCHEDULED,
        TargetState.DISPATCHED,
        TargetState.RETRYING,
    )
)


async def _refresh_gauge(stores: Stores, metrics: SchedulerMetrics, every_s: float) -> None:
    while True:
        try:
            counts = await stores.posts.count_by_state(UNFINISHED)
            waiting = await stores.dispatch.count_pending()
            waiting += await stores.recipients.count_queue()
        except Exception:  # a gauge may lag; the service must not stop for it
            log.warning("metrics.refresh_failed", exc_info=True)
        else:
            # A dispatch is recorded as a fact, not in the target's stored state: of the stored
            # `scheduled` targets, those no longer queued have been dispatched.
            stored = counts.pop("scheduled", 0)
            counts["scheduled"] = min(waiting, stored)
            counts["dispatched"] = counts.get("dispatched", 0) + stored - counts["scheduled"]
            for state, count in counts.items():
                metrics.targets.labels(state).set(count)
        await asyncio.sleep(every_s)


async def _campaign_loop(deps: Deps, settings: Settings, metrics: SchedulerMetrics) -> None:
    horizon = timedelta(seconds=settings.campaigns.horizon_s)
    grace = timedelta(seconds=settings.campaigns.grace_s)
    while True:
        try:
            report = await run_pass(deps, horizon=horizon, grace=grace)
        except Exception:  # the next pass tries again; every post it creates is idempotent
            log.exception("campaigns.pass_failed")
        else:
            for outcome in ("created", "existing", "rejected", "skipped_late"):
                metrics.campaign_posts.labels(outcome).inc(getattr(report, outcome))
        await asyncio.sleep(settings.campaigns.interval_s)
