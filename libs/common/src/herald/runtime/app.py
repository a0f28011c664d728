"""`build_publisher`: a whole publisher service around one platform adapter.

A publisher's composition root asks for a `PublisherRuntime` (Kafka broker, MongoDB, emitter,
topic names, token source, metrics registry: built from the settings unless a test passes its
own), builds its adapter and extras from it, then asks for the app:

    runtime = build_publisher(Platform.FACEBOOK, settings)
    pages = GraphPages(GraphClient.create(runtime.http_client(settings.graph.http), ...))
    runtime.collect_insights(PageInsights(pages), settings.insights)
    return runtime.app(FacebookPublisher(pages, flow))

The app has the request subscriber and the delay-tier subscribers, the ledger, results on
`post.results`, the dead-letter route, the retention sweep, metrics, health and readiness, and
whatever the service added: start-up hooks, jobs running alongside, routers, closers.
`runtime_of(app)` gives the runtime back, typed (tests, and jobs that need the running pieces).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

import httpx
import structlog
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from herald.bodylimits import BodyLimit, install_body_limits
from herald.emitter import EventEmitter, KafkaEmitter
from herald.events import PostProgressed
from herald.http import HttpClientSettings, new_http_client
from herald.httperrors import install_error_envelope
from herald.infra import Infra
from herald.insights import (
    InsightsCollector,
    InsightsReader,
    InsightsSettings,
    MongoSnapshots,
    PublishingSink,
)
from herald.insights.clock import FollowedClock
from herald.insights.metrics import InsightsMetrics
from herald.insights.requests import RefreshRequests
from herald.kafka import new_broker
from herald.ledger import LEASES, LEDGER, EntryState, MongoLedger
from herald.media import FetchSettings, MediaFetcher
from herald.mongo import Document
from herald.retention import Retention, Rule
from herald.runtime.consumer import PublisherConsumer
from herald.runtime.handler import PublishHandler
from herald.runtime.metrics import PublisherMetrics
from herald.runtime.ports import PlatformAdapter, TokenSource
from herald.runtime.progress import ProgressSink
from herald.runtime.routing import KafkaRouter
from herald.runtime.settings import PublisherSettings
from herald.runtime.tokens import AuthServiceTokens
from herald.service import ReadinessCheck, add_operational_routes
from herald.stopping import cancel_and_wait
from herald.topics import Platform, TopicNames

log = structlog.get_logger(__name__)

Hook = Callable[[], Awaitable[None]]
Job = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class PublisherRuntime:
    """The running pieces of one publisher, and what its service adds to them."""

    platform: Platform
    settings: PublisherSettings
    names: TopicNames
    registry: CollectorRegistry
    infra: Infra
    emitter: EventEmitter
    tokens: TokenSource
    ledger: MongoLedger
    adapter: PlatformAdapter | None = None
    insights: InsightsCollector | None = None
    retention: Retention | None = None
    _starts: list[Hook] = field(default_factory=list)
    _stops: list[Callable[[], object]] = field(default_factory=list)
    _closers: list[Hook] = field(default_factory=list)
    _jobs: list[Job] = field(default_factory=list)
    _routers: list[APIRouter] = field(default_factory=list)
    _body_limits: dict[str, BodyLimit] = field(default_factory=dict)
    _checks: dict[str, ReadinessCheck] = field(default_factory=dict)

    @property
    def service(self) -> str:
        return f"publisher-{self.platform.value}"

    @property
    def group(self) -> str:
        """The consumer group of the request topic; a service's own subscribers add a suffix."""
        return f"{self.settings.topic_prefix}herald-{self.service}"

    @property
    def broker(self) -> KafkaBroker:
        return self.infra.broker

    @property
    def mongo(self) -> AsyncMongoClient[Document]:
        return self.infra.mongo

    @property
    def db(self) -> AsyncDatabase[Document]:
        """The database this service owns (ledger, leases, and the service's own collections)."""
        return self.infra.mongo[self.settings.database]

    def http_client(self, settings: HttpClientSettings) -> httpx.AsyncClient:
        """An outbound client (ADR 0009), closed at shutdown."""
        client = new_http_client(settings, service=self.service)
        self.on_close(client.aclose)
        return client

    def media_fetcher(self, settings: FetchSettings) -> MediaFetcher:
        """A fetcher of media from business URLs (ADR 0002), closed at shutdown."""
        fetcher = MediaFetcher(settings)
        self.on_close(fetcher.aclose)
        return fetcher

    def on_start(self, hook: Hook) -> None:
        """Runs at start-up once MongoDB is reachable, before consuming begins (indexes, ...)."""
        self._starts.append(hook)

    def on_stop(self, hook: Callable[[], object]) -> None:
        """Runs first at shutdown (after the jobs were cancelled), while the broker still runs;
        a hook returning an awaitable is awaited."""
        self._stops.append(hook)

    def on_close(self, hook: Hook) -> None:
        """Runs last at shutdown, after the broker stopped (HTTP clients, ...)."""
        self._closers.append(hook)

    def run_alongside(self, job: Job) -> None:
        """A task while the service runs: started after consuming began, cancelled first."""
        self._jobs.append(job)

    def include_router(
        self, router: APIRouter, *, body_limits: dict[str, BodyLimit] | None = None
    ) -> None:
        """Serve `router`'s routes; `body_limits` (route template → limit) for those that take
        more than the service's default body (`herald.bodylimits`)."""
        self._routers.append(router)
        self._body_limits.update(body_limits or {})

    def add_check(self, name: str, check: ReadinessCheck) -> None:
        """One more readiness check beside Kafka's and MongoDB's."""
        self._checks[name] = check

    def collect_insights(
        self, reader: InsightsReader, settings: InsightsSettings
    ) -> InsightsCollector:
        """The insights job (ADR 0003) on this service's database, emitting on `post.insights`;
        it runs alongside when `settings.enabled`, and takes the refreshes businesses ask for
        on the same topic."""
        store = MongoSnapshots(self.db)
        clock: dict[str, Any] = {}
        if settings.clock_url is not None:  # a test system's sandbox clock (ADR 0020)
            followed = FollowedClock(self.http_client(HttpClientSettings()), settings.clock_url)
            clock = {"clock": followed, "refresh_clock": followed.refresh}
            log.warning("insights.clock_followed", url=settings.clock_url)
        self.insights = InsightsCollector(
            store=store,
            reader=reader,
            tokens=self.tokens,
            sink=PublishingSink(store, self.emitter, topic=self.names.post_insights),
            settings=settings,
            metrics=InsightsMetrics.create(self.registry, self.platform.value),
            **clock,
        )
        if settings.enabled:
            self.run_alongside(self.insights.run_forever)
        # refreshes a business asks for (herald.post.insights_requested.v1 on post.insights)
        requests = RefreshRequests(self.insights, self.platform, enabled=settings.enabled)
        requests.register(self.broker, topic=self.names.post_insights, group=self.group)
        self.on_stop(requests.close)
        return self.insights

    def app(self, adapter: PlatformAdapter, *, retention_rules: Sequence[Rule] = ()) -> FastAPI:
        """The service: `adapter` behind the shared consumer, plus everything added so far.
        `retention_rules` extend the sweep over the ledger to the service's own collections."""
        if self.adapter is not None:
            msg = "a PublisherRuntime builds one app"
            raise RuntimeError(msg)
        if adapter.name is not self.platform:
            msg = f"the adapter is for {adapter.name.value}, this runtime for {self.platform.value}"
            raise ValueError(msg)
        self.adapter = adapter
        settings, names = self.settings, self.names
        consumer = PublisherConsumer(
            platform=self.platform,
            handler=PublishHandler(
                platform=adapter,
                ledger=self.ledger,
                tokens=self.tokens,
                policy=settings.retry.policy(names.tiers),
                busy_retry_s=settings.busy_retry_s,
                progress=self._progress_sink(),
            ),
            router=KafkaRouter(self.broker, self.platform, names),
            emitter=self.emitter,
            metrics=PublisherMetrics.create(self.registry, self.service),
            names=names,
            overlap=settings.settle_behind,
        )
        consumer.register(self.broker, group=self.group, concurrency=settings.concurrency)
        finished = {"state": {"$in": [EntryState.PUBLISHED.value, EntryState.FAILED.value]}}
        self.retention = Retention(
            self.db,
            [Rule(LEDGER, "updated_at", finished), Rule(LEASES, "expires_at"), *retention_rules],
            keep_s=settings.retention.keep_s,
            every_s=settings.retention.every_s,
            registry=self.registry,
        )
        if settings.retention.enabled:
            self.run_alongside(self.retention.run_forever)
        app = FastAPI(
            title=f"Herald {self.service}", version="0.1.0", lifespan=self._lifespan(consumer)
        )
        checks = {**self.infra.checks(), **self._checks}
        add_operational_routes(app, service=self.service, checks=checks, registry=self.registry)
        install_error_envelope(app)
        install_body_limits(app, settings.http, self._body_limits)
        for router in self._routers:
            app.include_router(router)
        app.state.runtime = self
        return app

    def _progress_sink(self) -> ProgressSink:
        """A flow's reports within a handling (ADR 0018) go where its results go."""
        emitter, topic = self.emitter, self.names.post_results

        async def emit(event: PostProgressed) -> None:
            await emitter.emit(event, topic=topic, key=event.post_id)

        return emit

    def _lifespan(
        self, consumer: PublisherConsumer
    ) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.infra.start_mongo()
            await self.ledger.ensure_indexes()
            for start in self._starts:
                await start()
            await self.infra.start_broker()
            tasks = [asyncio.create_task(job()) for job in self._jobs]
            try:
                yield
            finally:
                await cancel_and_wait(*tasks)
                for stop in self._stops:
                    if inspect.isawaitable(stopped := stop()):
                        await stopped
                await consumer.drain()  # results of requests settling behind go out and commit
                consumer.close()
                await self.infra.stop_broker()
                for close in self._closers:
                    await close()
                await self.mongo.close()

        return lifespan


class Overrides(TypedDict, total=False):
    """What a test may pass instead of what the settings would build; a publisher's
    `create_app(settings, **overrides)` hands them to `build_publisher` untouched."""

    tokens: TokenSource
    broker: KafkaBroker
    mongo: AsyncMongoClient[Document]
    names: TopicNames
    emitter: EventEmitter


def build_publisher(
    platform: Platform, settings: PublisherSettings, **overrides: Unpack[Overrides]
) -> PublisherRuntime:
    """The runtime of `publisher-<platform>`, with `overrides` in place of what the settings
    would build (tests)."""
    tokens, broker, mongo = overrides.get("tokens"), overrides.get("broker"), overrides.get("mongo")
    names, emitter = overrides.get("names"), overrides.get("emitter")
    service = f"publisher-{platform.value}"
    names = names or TopicNames(prefix=settings.topic_prefix)
    registry = CollectorRegistry()
    broker = broker or new_broker(
        settings.kafka,
        client_id=f"herald-{service}",
        middlewares=[KafkaPrometheusMiddleware(registry=registry, app_name=service)],
    )
    infra = Infra.build(
        kafka=settings.kafka,
        mongo=settings.mongo,
        client_id=f"herald-{service}",
        broker=broker,
        mongo_client=mongo,
        registry=registry,
        topics=names.for_service(service).names,
    )
    closers: list[Hook] = []
    if tokens is None:
        auth_http = new_http_client(settings.auth.http, service=service)
        closers.append(auth_http.aclose)
        tokens = AuthServiceTokens(settings.auth.client(auth_http))
    return PublisherRuntime(
        platform=platform,
        settings=settings,
        names=names,
        registry=registry,
        infra=infra,
        emitter=emitter or KafkaEmitter(broker, source=f"herald/{service}"),
        tokens=tokens,
        ledger=MongoLedger(infra.mongo[settings.database], lease_s=settings.lease_s),
        _closers=closers,
    )


def runtime_of(app: FastAPI) -> PublisherRuntime:
    """The runtime behind a publisher app built by `PublisherRuntime.app`."""
    runtime = getattr(app.state, "runtime", None)
    if not isinstance(runtime, PublisherRuntime):
        msg = "this app was not built by herald.runtime.build_publisher"
        raise TypeError(msg)
    return runtime
