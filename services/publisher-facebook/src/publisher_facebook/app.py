"""Composition root of publisher-facebook: the shared runtime (`herald.runtime`) around
`FacebookPublisher`, plus the insights job (docs/adr/0003-insights-collection.md) and the
account insights job (docs/adr/0020-analytics-read-model.md)."""

from __future__ import annotations

from typing import Unpack

from fastapi import FastAPI

from herald.graph import GraphClient
from herald.graph.accounts import PageAccountInsights
from herald.runtime.accounts import collect_account_insights
from herald.runtime.app import Overrides, build_publisher
from herald.topics import Platform
from publisher_facebook.adapters.graph_pages import GraphPages
from publisher_facebook.handlers import FacebookPublisher, FlowSettings
from publisher_facebook.insights import PageInsights
from publisher_facebook.settings import Settings


def create_app(
    settings: Settings,
    *,
    graph: GraphClient | None = None,
    **overrides: Unpack[Overrides],
) -> FastAPI:
    """`graph` and `overrides` (herald.runtime.app.Overrides) replace what settings build."""
    runtime = build_publisher(Platform.FACEBOOK, settings, **overrides)
    graph = graph or GraphClient.for_publisher(runtime, settings.graph)
    pages = GraphPages(graph)
    runtime.collect_insights(PageInsights(pages), settings.insights)
    collect_account_insights(
        runtime,
        PageAccountInsights(graph),
        settings.account_insights,
        clock_url=settings.insights.clock_url,
    )
    flow = FlowSettings(
        video_poll_s=settings.video_poll_s,
        reconcile_skew_s=settings.reconcile_skew_s,
        reconcile_posts=settings.reconcile_posts,
    )
    return runtime.app(FacebookPublisher(pages, flow))
