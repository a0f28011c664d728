"""Composition root of publisher-whatsapp: `create_app` builds every adapter; nothing else wires
things. The publisher is the shared runtime (`herald.runtime`) around `WhatsAppPublisher`, plus
the status webhook (docs/adr/0007-whatsapp-batches-and-pace.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from herald.emitter import KafkaEmitter
from herald.graph import GraphClient, GraphMetrics
from herald.http import new_http_client
from herald.kafka import new_broker
from herald.media import MediaFetcher
from herald.mongo import Document, new_mongo_client
from herald.runtime.app import Closer, create_publisher_app
from herald.runtime.ports import TokenSource
from herald.runtime.tokens import AuthServiceTokens
from herald.topics import Platform, TopicNames
from publisher_whatsapp.adapters.cloud_api import GraphCloudApi
from publisher_whatsapp.adapters.events import KafkaStatusSink, RelayedContactFlags
from publisher_whatsapp.adapters.media import FetcherMedia
from publisher_whatsapp.adapters.metrics import PrometheusObserver, WhatsAppMetrics
from publisher_whatsapp.adapters.store import RETENTION, MongoContactFlags, MongoMessages
from publisher_whatsapp.api import webhooks as webhook_routes
from publisher_whatsapp.handlers import FlowSettings, WhatsAppPublisher
from publisher_whatsapp.pace import Pacer
from publisher_whatsapp.ports import MediaSource
from publisher_whatsapp.settings import Settings
from publisher_whatsapp.subscribers import NumberDirectory
from publisher_whatsapp.webhooks import StatusReceiver

SERVICE = "publisher-whatsapp"
log = structlog.get_logger(__name__)


def create_app(
    settings: Settings,
    *,
    graph: GraphClient | None = None,
    tokens: TokenSource | None = None,
    broker: KafkaBroker | None = None,
    mongo: AsyncMongoClient[Document] | None = None,
    names: TopicNames | None = None,
    media: MediaSource | None = None,
) -> FastAPI:
    """`graph`, `tokens`, `broker`, `mongo`, `names` and `media` replace what settings build."""
    registry = CollectorRegistry()
    closers: list[Closer] = []
    graph = graph or _graph(settings, registry, closers)
    tokens = tokens or _tokens(settings, closers)
    if media is None:
        fetcher = MediaFetcher(settings.fetcher)
        closers.append(fetcher.aclose)
        media = FetcherMedia(fetcher)
    mongo = mongo or new_mongo_client(
        settings.mongo, app_name=f"herald-{SERVICE}", registry=registry
    )
    messages = MongoMessages(mongo[settings.database])
    names = names or TopicNames(prefix=settings.topic_prefix)
    # The runtime would build the same broker; built here so the flags can produce through it.
    broker = broker or new_broker(
        settings.kafka,
        client_id=f"herald-{SERVICE}",
        middlewares=[KafkaPrometheusMiddleware(registry=registry, app_name=SERVICE)],
    )
    emitter = KafkaEmitter(broker, source=f"herald/{SERVICE}")
    flags = RelayedContactFlags(MongoContactFlags(mongo[settings.database]), emitter, names)
    observer = PrometheusObserver(WhatsAppMetrics.create(registry))
    app = create_publisher_app(
        platform=_publisher(
            settings,
            GraphCloudApi(graph),
            messages=messages,
            flags=flags,
            media=media,
            observer=observer,
        ),
        settings=settings,
        tokens=tokens,
        broker=broker,
        mongo=mongo,
        closers=closers,
        registry=registry,
        names=names,
        retention_rules=RETENTION,
    )
    sink = KafkaStatusSink(emitter, names)
    _add_webhook(app, settings, sink=sink, messages=messages, flags=flags, observer=observer)
    _ensure_indexes(app, messages)
    return app


def _graph(settings: Settings, registry: CollectorRegistry, closers: list[Closer]) -> GraphClient:
    http = new_http_client(settings.graph.http, service=SERVICE)
    closers.append(http.aclose)
    metrics = GraphMetrics.create(registry)
    return GraphClient(http, settings.graph, platform=Platform.WHATSAPP.value, metrics=metrics)


def _tokens(settings: Settings, closers: list[Closer]) -> TokenSource:
    http = new_http_client(settings.auth.http, service=SERVICE)
    closers.append(http.aclose)
    return AuthServiceTokens(settings.auth.client(http))


def _publisher(
    settings: Settings,
    api: GraphCloudApi,
    *,
    messages: MongoMessages,
    flags: RelayedContactFlags,
    media: MediaSource,
    observer: PrometheusObserver,
) -> WhatsAppPublisher:
    pace = settings.pace
    pacer = Pacer(pace.limit, pace.target_ratio, pace.burst_ratio, observer)
    flow = FlowSettings(send=settings.send, media=settings.media, max_wait_s=pace.max_wait_s)
    return WhatsAppPublisher(api, messages, flags, media, pacer, observer, flow)


def _add_webhook(
    app: FastAPI,
    settings: Settings,
    *,
    sink: KafkaStatusSink,
    messages: MongoMessages,
    flags: RelayedContactFlags,
    observer: PrometheusObserver,
) -> None:
    """The status webhook, and the numbers it accepts learnt from `integration.events`."""
    receiver = StatusReceiver(
        store=messages,
        sink=sink,
        flags=flags,
        observer=observer,
        secrets=settings.webhook_secrets(),
        verify_token=settings.webhook.verify_token.get_secret_value(),
        grace_s=settings.webhook.unknown_message_grace_s,
    )
    if not receiver.secrets:
        log.warning("whatsapp.webhook_unsigned", detail="no app secret: every delivery refused")
    webhook = settings.webhook
    app.include_router(
        webhook_routes.router(receiver, path=webhook.path, max_body_bytes=webhook.max_body_bytes)
    )
    directory = NumberDirectory(messages)
    group = f"{settings.topic_prefix}herald-{SERVICE}"
    topic = TopicNames(prefix=settings.topic_prefix).integration_events
    directory.register(app.state.broker, topic=topic, group=group)
    app.state.receiver, app.state.directory = receiver, directory


def _ensure_indexes(app: FastAPI, messages: MongoMessages) -> None:
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        async with inner(application) as state:
            await messages.ensure_indexes()
            try:
                yield state
            finally:
                app.state.directory.close()

    app.router.lifespan_context = lifespan
