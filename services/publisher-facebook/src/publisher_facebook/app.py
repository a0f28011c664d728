"""Composition root of publisher-facebook: the shared runtime (`herald.runtime`) around
`FacebookPublisher`, plus the insights job (docs/adr/0003-insights-collection.md)."""

from __future__ import annotations

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from herald.graph import GraphClient
from herald.mongo import Document
from herald.runtime.app import build_publisher
from herald.runtime.ports import TokenSource
from herald.topics import Platform, TopicNames
from publisher_facebook.adapters.graph_pages import GraphPages
from publisher_facebook.handlers import FacebookPublisher, FlowSettings
from publisher_facebook.insights import PageInsights
from publisher_facebook.settings import Settings


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
    runtime = build_publisher(
        Platform.FACEBOOK, settings, tokens=tokens, broker=broker, mongo=mongo, names=names
    )
    graph = graph or GraphClient.for_publisher(runtime, settings.graph)
    pages = GraphPages(graph)
    runtime.collect_insights(PageInsights(pages), settings.insights)
    flow = FlowSettings(
        video_poll_s=settings.video_poll_s,
        reconcile_skew_s=settings.reconcile_skew_s,
        reconcile_posts=settings.reconcile_posts,
    )
    return runtime.app(FacebookPublisher(pages, flow))
