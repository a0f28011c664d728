"""What runs between the scheduler's startup and shutdown, wired for its composition root
(`scheduler.app`): the stores, the dispatcher and expander, the Kafka consumers and the
background loops (gauges, retention, campaign passes), started and stopped by the app's
lifespan in one order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import structlog
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from herald.infra import Infra
from herald.mongo import Document
from herald.retention import DAY_S, Retention, Rule
from herald.stopping import cancel_and_wait
from scheduler.adapters.audiences import MongoAudiences
from scheduler.adapters.campaigns import MongoCampaigns
from scheduler.adapters.dispatch import MongoDispatch
from scheduler.adapters.integrations import MongoIntegrations
from scheduler.adapters.posts import MongoPosts
from scheduler.adapters.recipients import MongoRecipients
from scheduler.analytics.refresh import REFRESHES
from scheduler.analytics.wiring import Analytics
from scheduler.dispatcher import Dispatcher
from scheduler.expander import Expander
from scheduler.handlers.base import Deps
from scheduler.handlers.campaigns import run_pass
from scheduler.handlers.dispatch import DispatchHandler
from scheduler.metrics import SchedulerMetrics
from scheduler.models import TargetState
from scheduler.ports import ApiKeys
from scheduler.settings import SchedulerRetentionSettings, Settings
from scheduler.subscribers import Subscribers

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


def build_workers(
    settings: Settings,
    *,
    infra: Infra,
    stores: Stores,
    deps: Deps,
    metrics: SchedulerMetrics,
    http: httpx.AsyncClient | None,
    registry: CollectorRegistry,
    keys: ApiKeys,
    group: str,
) -> Workers:
    """The dispatcher, expander, consumers (in consumer group `group`) and loops of one replica;
    `deps` learns how to wake the dispatcher and the expander."""
    handler = DispatchHandler(
        deps, owner=settings.instance_id, lease_s=settings.dispatch.claim_lease_s
    )
    dispatcher = Dispatcher(handler, stores.dispatch, metrics, settings.dispatch, clock=deps.clock)
    if settings.dispatch.enabled:
        deps.notify = dispatcher.notify
    expander = Expander(deps, metrics, settings.broadcasts, owner=settings.instance_id)
    if settings.broadcasts.enabled:
        deps.notify_broadcast = expander.notify
    subscribers = Subscribers(
        deps, metrics, keys, settings.ingest, results_consumers=settings.results_consumers
    )
    subscribers.register(infra.broker, group=group)
    stores.analytics.subscribe(infra.broker, deps, group=group)
    loops: list[Callable[[], Coroutine[Any, Any, None]]] = [
        lambda: _refresh_gauge(stores, metrics, settings.metrics_refresh_s),
        stores.analytics.backfill,  # once, then done (ADR 0020, "Reading a period")
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
    is being dispatched, minutes), kept rejections, the posts' last analytics refreshes (needed
    for one refresh interval), and, much later, history (ADR 0006)."""
    rules = [
        Rule("claims", "claimed_at"),
        Rule("dispatches", "dispatched_at"),
        Rule("rejections", "rejected_at"),
        Rule(REFRESHES, "at"),  # a post's last analytics refresh: needed for minutes
        Rule("history", "at", keep_s=keep.history_keep_days * DAY_S),
    ]
    return Retention(
        db, rules, keep_s=keep.keep_days * DAY_S, every_s=keep.every_s, registry=registry
    )


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
