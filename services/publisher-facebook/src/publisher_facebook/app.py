"""Composition root of publisher-facebook: `create_app` builds every adapter; nothing else wires
things. The publisher is the shared runtime (`herald.runtime`) around `FacebookPublisher`, plus
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
from publisher_facebook.adapters.graph_pages import GraphPages
from publisher_facebook.handlers import FacebookPublisher, FlowSettings
from publisher_facebook.insights import PageInsights
from publisher_facebook.settings import Settings

SERVICE = "publisher-facebook"


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
        platform = Platform.FACEBOOK
        graph = GraphClient(graph_http, settings.graph, platform=platform, metrics=metrics)
    if tokens is None:
        auth_http = new_http_client(settings.auth.http, service=SERVICE)
        closers.append(auth_http.aclose)
        tokens = AuthServiceTokens(settings.auth.client(auth_http))
    mongo = mongo or new_mongo_client(
        settings.mongo, app_name=f"herald-{SERVICE}", registry=registry
    )
    pages = GraphPages(graph)
    flow = FlowSettings(
        video_poll_s=settings.video_poll_s,
        reconcile_skew_s=settings.reconcile_skew_s,
        reconcile_posts=settings.reconcile_posts,
    )
    app = create_publisher_app(
        platform=FacebookPublisher(pages, flow),
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
        reader=PageInsights(pages),
        tokens=tokens,
        sink=PublishingSink(store, app.state.emitter, topic=app.state.names.post_insights),
        settings=settings.insights,
    )
    if settings.insights.enabled:
        run_alongside(app, app.state.insights.run_forever)
    return app
