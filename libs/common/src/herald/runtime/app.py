"""`create_publisher_app`: a whole publisher service around one platform adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from herald.emitter import EventEmitter, KafkaEmitter
from herald.infra import Infra
from herald.kafka import new_broker
from herald.ledger import LEASES, LEDGER, EntryState, MongoLedger
from herald.mongo import Document
from herald.retention import Retention, Rule
from herald.runtime.consumer import PublisherConsumer
from herald.runtime.handler import PublishHandler
from herald.runtime.metrics import PublisherMetrics
from herald.runtime.ports import Platform, TokenSource
from herald.runtime.routing import KafkaRouter
from herald.runtime.settings import PublisherSettings
from herald.service import ReadinessCheck, add_operational_routes, run_alongside
from herald.topics import TopicNames

Closer = Callable[[], Awaitable[None]]


def create_publisher_app(
    *,
    platform: Platform,
    settings: PublisherSettings,
    tokens: TokenSource,
    broker: KafkaBroker | None = None,
    mongo: AsyncMongoClient[Document] | None = None,
    emitter: EventEmitter | None = None,
    extra_checks: dict[str, ReadinessCheck] | None = None,
    closers: Sequence[Closer] = (),
    registry: CollectorRegistry | None = None,
    names: TopicNames | None = None,
    retention_rules: Sequence[Rule] = (),
) -> FastAPI:
    """The publisher for `platform`: subscribers, ledger, results, dead letters, metrics, probes,
    and the retention sweep over the ledger (plus the adapter's `retention_rules`).

    `closers` run at shutdown after the broker stopped (HTTP clients of the adapter, ...).
    """
    service = f"publisher-{platform.name.value}"
    names = names or TopicNames(prefix=settings.topic_prefix)
    registry = registry or CollectorRegistry()
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
    ledger = MongoLedger(infra.mongo[settings.database], lease_s=settings.lease_s)
    emitter = emitter or KafkaEmitter(broker, source=f"herald/{service}")
    handler = PublishHandler(
        platform=platform,
        ledger=ledger,
        tokens=tokens,
        policy=settings.retry.policy(names.tiers),
        busy_retry_s=settings.busy_retry_s,
    )
    consumer = PublisherConsumer(
        platform=platform.name,
        handler=handler,
        router=KafkaRouter(broker, platform.name, names),
        emitter=emitter,
        metrics=PublisherMetrics.create(registry),
        names=names,
        overlap=settings.settle_behind,
    )
    group = f"{settings.topic_prefix}herald-{service}"
    consumer.register(broker, group=group, concurrency=settings.concurrency)
    finished = {"state": {"$in": [EntryState.PUBLISHED.value, EntryState.FAILED.value]}}
    retention = Retention(
        infra.mongo[settings.database],
        [Rule(LEDGER, "updated_at", finished), Rule(LEASES, "expires_at"), *retention_rules],
        keep_s=settings.retention.keep_s,
        every_s=settings.retention.every_s,
        registry=registry,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await infra.start_mongo()
        await ledger.ensure_indexes()
        await infra.start_broker()
        try:
            yield
        finally:
            await consumer.drain()  # results of requests settling behind go out and commit
            consumer.close()
            await infra.broker.stop()
            for close in closers:
                await close()
            await infra.mongo.close()

    app = FastAPI(title=f"Herald {service}", version="0.1.0", lifespan=lifespan)
    checks = {**infra.checks(), **(extra_checks or {})}
    add_operational_routes(app, service=service, checks=checks, registry=registry)
    app.state.broker = broker
    app.state.infra = infra
    app.state.ledger = ledger
    app.state.retention = retention
    if settings.retention.enabled:
        run_alongside(app, retention.run_forever)
    app.state.emitter = emitter  # for the service's own jobs (insights, status webhooks)
    app.state.names = names
    return app
