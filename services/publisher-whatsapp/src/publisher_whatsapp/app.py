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
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from herald.emitter import KafkaEmitter
from herald.graph import GraphMetrics
from herald.http import new_http_client
from herald.media import MediaFetcher
from herald.mongo import Document, new_mongo_client
from herald.runtime.app import Closer, create_publisher_app
from herald.runtime.ports import TokenSource
from herald.runtime.tokens import AuthServiceTokens
from herald.topics import Platform, TopicNames
from publisher_whatsapp.adapters.cloud_api import CloudGraphClient, GraphCloudApi
from publisher_whatsapp.adapters.events import KafkaStatusSink
from publisher_whatsapp.adapters.media import FetcherMedia
from publisher_whatsapp.adapters.metrics import PrometheusObserver, WhatsAppMetrics
from publisher_whatsapp.adapters.store import MongoContactFlags, MongoMessages
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
    graph: CloudGraphClient | None = None,
    tokens: TokenSource | None = None,
    broker: KafkaBroker | None = None,
    mongo: AsyncMongoClient[Document] | None = None,
    names: TopicNames | None = None,
    media: MediaSource | None = None,
) -> FastAPI:
    """`graph`, `tokens`, `broker`, `mongo`, `names` and `media` replace what settings build."""
    registry = CollectorRegistry()
    closers: list[Closer] = []
    if graph is None:
        http = new_http_client(settings.graph.http, service=SERVICE)
        closers.append(http.aclose)
        metrics = GraphMetrics.create(registry)
        graph = CloudGraphClient(
            http, settings.graph, platform=Platform.WHATSAPP.value, metrics=metrics
        )
    if tokens is None:
        auth_http = new_http_client(settings.auth.http, service=SERVICE)
        closers.append(auth_http.aclose)
        tokens = AuthServiceTokens(settings.auth.client(auth_http))
    if media is None:
        fetcher = MediaFetcher(settings.fetcher)
        closers.append(fetcher.aclose)
        media = FetcherMedia(fetcher)
    mongo = mongo or new_mongo_client(settings.mongo, app_name=f"herald-{SERVICE}")
    db = mongo[settings.database]
    messages, flags = MongoMessages(db), MongoContactFlags(db)
    observer = PrometheusObserver(WhatsAppMetrics.create(registry))
    pace = settings.pace
    pacer = Pacer(pace.limit, pace.target_ratio, pace.burst_ratio, observer)
    flow = FlowSettings(send=settings.send, media=settings.media, max_wait_s=pace.max_wait_s)
    publisher = WhatsAppPublisher(
        GraphCloudApi(graph), messages, flags, media, pacer, observer, flow
    )
    names = names or TopicNames(prefix=settings.topic_prefix)
    app = create_publisher_app(
        platform=publisher,
        settings=settings,
        tokens=tokens,
        broker=broker,
        mongo=mongo,
        closers=closers,
        registry=registry,
        names=names,
    )
    sink = KafkaStatusSink(KafkaEmitter(app.state.broker, source=f"herald/{SERVICE}"), names)
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
    app.include_router(
        webhook_routes.router(
            receiver, path=settings.webhook.path, max_body_bytes=settings.webhook.max_body_bytes
        )
    )
    directory = NumberDirectory(messages)
    directory.register(
        app.state.broker,
        topic=names.integration_events,
        group=f"{settings.topic_prefix}herald-{SERVICE}",
    )
    _ensure_indexes(app, messages, directory)
    app.state.publisher, app.state.receiver = publisher, receiver
    app.state.messages, app.state.flags = messages, flags
    return app


def _ensure_indexes(app: FastAPI, messages: MongoMessages, directory: NumberDirectory) -> None:
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        async with inner(application) as state:
            await messages.ensure_indexes()
            try:
                yield state
            finally:
                directory.close()

    app.router.lifespan_context = lifespan
