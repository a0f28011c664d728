"""Composition root of publisher-instagram: `create_app` builds every adapter; nothing else wires
things. The publisher is the shared runtime (`herald.runtime`) around `InstagramPublisher`, plus
the insights job (docs/adr/0003-insights-collection.md)."""

from __future__ import annotations

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from herald.graph import GraphClient, GraphMetrics
from herald.http import new_http_client
from herald.insights import InsightsCollector, MongoSnapshots, PublishingSink
from herald.mongo import Document, new_mongo_client
from herald.runtime.app import Closer, create_publisher_app
from herald.runtime.ports import TokenSource
from herald.runtime.tokens import AuthServiceTokens
from herald.service import run_alongside
from herald.topics import Platform, TopicNames
from publisher_instagram.adapters.graph_instagram import GraphInstagram
from publisher_instagram.handlers import FlowSettings, InstagramPublisher
from publisher_instagram.insights import MediaInsights
from publisher_instagram.settings import Settings

SERVICE = "publisher-instagram"


def create_app(
    settings: Settings,
    *,
    graph: GraphClient | None = None,
    tokens: TokenSource | None = None,
    broker: KafkaBroker | None = None,
    mongo: AsyncMongoClient[Document] | None = None,
    names: TopicNames | None = None,
) -> FastAPI:
    """`graph`, `tokens`, `broker`, `mongo` and `names` replace what settings would build."""
    registry = CollectorRegistry()
    closers: list[Closer] = []
    if graph is None:
        graph_http = new_http_client(settings.graph.http, service=SERVICE)
        closers.append(graph_http.aclose)
        metrics = GraphMetrics.create(registry)
        graph = GraphClient(
            graph_http, settings.graph, platform=Platform.INSTAGRAM, metrics=metrics
        )
    if tokens is None:
        auth_http = new_http_client(settings.auth.http, service=SERVICE)
        closers.append(auth_http.aclose)
        tokens = AuthServiceTokens(settings.auth.client(auth_http))
    mongo = mongo or new_mongo_client(
        settings.mongo, app_name=f"herald-{SERVICE}", registry=registry
    )
    api = GraphInstagram(graph)
    by_login = {"facebook": api, "instagram": GraphInstagram(graph, host="instagram")}
    flow = FlowSettings(
        container_poll_s=settings.container_poll_s,
        quota_probes=settings.quota_probes,
        reconcile_skew_s=settings.reconcile_skew_s,
        reconcile_media=settings.reconcile_media,
    )
    app = create_publisher_app(
        platform=InstagramPublisher(api, flow, by_login=by_login),
        settings=settings,
        tokens=tokens,
        broker=broker,
        mongo=mongo,
        closers=closers,
        registry=registry,
        names=names,
    )
    store = MongoSnapshots(mongo[settings.database])
    app.state.insights = InsightsCollector(
        store=store,
        reader=MediaInsights(api, by_login=by_login),
        tokens=tokens,
        sink=PublishingSink(store, app.state.emitter, topic=app.state.names.post_insights),
        settings=settings.insights,
    )
    if settings.insights.enabled:
        run_alongside(app, app.state.insights.run_forever)
    return app
