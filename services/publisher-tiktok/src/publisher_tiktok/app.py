"""Composition root of publisher-tiktok: `create_app` builds every adapter; nothing else wires
things. The publisher is the shared runtime (`herald.runtime`) around `TikTokPlatform`, plus the
TikTok webhook route, the public post id job (ADR 0005) and the insights job (ADR 0003)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter
from pymongo import AsyncMongoClient

from herald.emitter import KafkaEmitter
from herald.http import new_http_client
from herald.insights import InsightsCollector, MongoSnapshots, PublishingSink
from herald.media import MediaFetcher
from herald.mongo import Document, new_mongo_client
from herald.runtime.app import Closer, create_publisher_app
from herald.runtime.ports import TokenSource
from herald.runtime.tokens import AuthServiceTokens
from herald.service import run_alongside
from herald.topics import TopicNames
from publisher_tiktok.adapters.api import HttpTikTokApi
from publisher_tiktok.adapters.forwarder import AuthServiceForwarder
from publisher_tiktok.adapters.limiter import SlidingWindowLimiter
from publisher_tiktok.adapters.store import MongoOutcomes
from publisher_tiktok.api import webhooks as webhook_routes
from publisher_tiktok.handlers import TikTokPlatform
from publisher_tiktok.insights import VideoInsights
from publisher_tiktok.ports import TikTokApi
from publisher_tiktok.postids import PostIdWatcher
from publisher_tiktok.settings import Settings
from publisher_tiktok.webhooks import WebhookReceiver

SERVICE = "publisher-tiktok"


def create_app(
    settings: Settings,
    *,
    tiktok: TikTokApi | None = None,
    tokens: TokenSource | None = None,
    broker: KafkaBroker | None = None,
    mongo: AsyncMongoClient[Document] | None = None,
    names: TopicNames | None = None,
) -> FastAPI:
    """`tiktok`, `tokens`, `broker`, `mongo` and `names` replace what settings would build."""
    registry = CollectorRegistry()
    closers: list[Closer] = []
    http = new_http_client(settings.http_client, service=SERVICE)
    closers.append(http.aclose)
    tiktok = tiktok or HttpTikTokApi(http, settings.tiktok)
    if tokens is None:
        auth_http = new_http_client(settings.auth.http, service=SERVICE)
        closers.append(auth_http.aclose)
        tokens = AuthServiceTokens(settings.auth.client(auth_http))
    fetcher = MediaFetcher(settings.fetcher)
    closers.append(fetcher.aclose)
    mongo = mongo or new_mongo_client(
        settings.mongo, app_name=f"herald-{SERVICE}", registry=registry
    )
    db = mongo[settings.database]
    outcomes = MongoOutcomes(db)
    limiter = SlidingWindowLimiter(settings.tiktok.limits)
    platform = TikTokPlatform(tiktok, fetcher, limiter, outcomes, settings.tiktok)
    names = names or TopicNames(prefix=settings.topic_prefix)
    app = create_publisher_app(
        platform=platform,
        settings=settings,
        tokens=tokens,
        broker=broker,
        mongo=mongo,
        closers=closers,
        registry=registry,
        names=names,
    )
    snapshots = MongoSnapshots(db)
    _ensure_indexes(app, outcomes, snapshots)
    forward_url = settings.auth.base_url.rstrip("/") + settings.auth_webhook_path
    app.include_router(
        webhook_routes.router(_receiver(settings, outcomes, http, forward_url, registry))
    )
    watcher = PostIdWatcher(
        store=outcomes,
        api=tiktok,
        limiter=limiter,
        tokens=tokens,
        emitter=KafkaEmitter(app.state.broker, source=f"herald/{SERVICE}"),
        names=names,
        settings=settings.tiktok,
    )
    app.state.post_ids = watcher
    run_alongside(app, watcher.run_forever)
    app.state.insights = InsightsCollector(
        store=snapshots,
        reader=VideoInsights(tiktok, limiter),
        tokens=tokens,
        sink=PublishingSink(snapshots, app.state.emitter, topic=app.state.names.post_insights),
        settings=settings.insights,
    )
    if settings.insights.enabled:
        run_alongside(app, app.state.insights.run_forever)
    return app


def _receiver(
    settings: Settings,
    outcomes: MongoOutcomes,
    http: httpx.AsyncClient,
    forward_url: str,
    registry: CollectorRegistry,
) -> WebhookReceiver:
    failures = Counter(
        "herald_webhook_signature_failures_total",
        "Webhook deliveries refused for their signature.",
        ["platform"],
        registry=registry,
    )
    secrets = [settings.tiktok.client_secret.get_secret_value()]
    if settings.tiktok.previous_client_secret is not None:
        secrets.append(settings.tiktok.previous_client_secret.get_secret_value())
    return WebhookReceiver(
        store=outcomes,
        forwarder=AuthServiceForwarder(http, forward_url),
        secrets=secrets,
        tolerance_s=settings.tiktok.webhook_tolerance_s,
        clock=time.time,
        on_bad_signature=failures.labels(platform="tiktok").inc,
    )


def _ensure_indexes(app: FastAPI, outcomes: MongoOutcomes, snapshots: MongoSnapshots) -> None:
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        async with inner(application) as state:
            await outcomes.ensure_indexes()
            await snapshots.ensure_indexes()
            yield state

    app.router.lifespan_context = lifespan
