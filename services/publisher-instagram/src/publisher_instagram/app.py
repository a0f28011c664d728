"""Composition root of publisher-instagram: the shared runtime (`herald.runtime`) around
`InstagramPublisher` (one Graph adapter per login: Facebook Login and Instagram Login), plus
the insights job (docs/adr/0003-insights-collection.md) and the account insights job
(docs/adr/0020-analytics-read-model.md)."""

from __future__ import annotations

from typing import Unpack

from fastapi import FastAPI

from herald.graph import GraphClient
from herald.graph.accounts import InstagramAccountInsights
from herald.runtime.accounts import collect_account_insights
from herald.runtime.app import Overrides, build_publisher
from herald.topics import Platform
from publisher_instagram.adapters.graph_instagram import GraphInstagram
from publisher_instagram.handlers import FlowSettings, InstagramPublisher
from publisher_instagram.insights import MediaInsights
from publisher_instagram.settings import Settings


def create_app(
    settings: Settings,
    *,
    graph: GraphClient | None = None,
    **overrides: Unpack[Overrides],
) -> FastAPI:
    """`graph` and `overrides` (herald.runtime.app.Overrides) replace what settings build."""
    runtime = build_publisher(Platform.INSTAGRAM, settings, **overrides)
    graph = graph or GraphClient.for_publisher(runtime, settings.graph)
    api = GraphInstagram(graph)
    by_login = {"facebook": api, "instagram": GraphInstagram(graph, host="instagram")}
    runtime.collect_insights(MediaInsights(api, by_login=by_login), settings.insights)
    collect_account_insights(
        runtime,
        InstagramAccountInsights(graph),
        settings.account_insights,
        clock_url=settings.insights.clock_url,
    )
    flow = FlowSettings(
        container_poll_s=settings.container_poll_s,
        quota_probes=settings.quota_probes,
        reconcile_skew_s=settings.reconcile_skew_s,
        reconcile_media=settings.reconcile_media,
    )
    return runtime.app(InstagramPublisher(api, flow, by_login=by_login))
