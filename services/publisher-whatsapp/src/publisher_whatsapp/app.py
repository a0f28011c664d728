"""Composition root of publisher-whatsapp: the shared runtime around `WhatsAppPublisher`, plus the
status webhook and the numbers it accepts (docs/adr/0007-whatsapp-batches-and-pace.md)."""

from __future__ import annotations

from typing import Unpack

from fastapi import FastAPI

from herald.bodylimits import BodyLimit
from herald.graph import GraphClient
from herald.runtime.app import Overrides, build_publisher
from herald.topics import Platform
from publisher_whatsapp.adapters.cloud_api import GraphCloudApi
from publisher_whatsapp.adapters.events import KafkaStatusSink, RelayedContactFlags
from publisher_whatsapp.adapters.media import FetcherMedia
from publisher_whatsapp.adapters.metrics import PrometheusObserver, WhatsAppMetrics
from publisher_whatsapp.adapters.store import RETENTION, MongoContactFlags, MongoMessages
from publisher_whatsapp.api import webhooks
from publisher_whatsapp.handlers import WhatsAppPublisher
from publisher_whatsapp.ports import MediaSource
from publisher_whatsapp.settings import Settings
from publisher_whatsapp.subscribers import NumberDirectory


def create_app(
    settings: Settings,
    *,
    graph: GraphClient | None = None,
    media: MediaSource | None = None,
    **overrides: Unpack[Overrides],
) -> FastAPI:
    """`graph`, `media` and `overrides` (herald.runtime.app.Overrides) replace what settings
    build."""
    runtime = build_publisher(Platform.WHATSAPP, settings, **overrides)
    graph = graph or GraphClient.for_publisher(runtime, settings.graph)
    media = media or FetcherMedia(runtime.media_fetcher(settings.fetcher))
    messages = MongoMessages(runtime.db)
    runtime.on_start(messages.ensure_indexes)
    flags = RelayedContactFlags(MongoContactFlags(runtime.db), runtime.emitter, runtime.names)
    observer = PrometheusObserver(WhatsAppMetrics.create(runtime.registry))
    sink = KafkaStatusSink(runtime.emitter, runtime.names)
    route = webhooks.route(settings, store=messages, sink=sink, flags=flags, observer=observer)
    # Meta batches statuses: a webhook may be larger than the service's default body.
    limit = BodyLimit(settings.webhook.max_body_bytes, settings.http.body_timeout_s)
    runtime.include_router(route, body_limits={settings.webhook.path: limit})
    NumberDirectory(messages).attach(runtime)  # the numbers the webhook accepts
    publisher = WhatsAppPublisher.from_settings(
        GraphCloudApi(graph),
        log=messages,
        flags=flags,
        media=media,
        observer=observer,
        settings=settings,
    )
    return runtime.app(publisher, retention_rules=RETENTION)
