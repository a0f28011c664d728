"""Composition root of publisher-tiktok: the shared runtime around `TikTokPublisher`, plus the
webhook route, the public post id job (ADR 0005), the insights job (ADR 0003) and the account
insights job (user stats, ADR 0020)."""

from __future__ import annotations

from typing import Unpack

from fastapi import FastAPI

from herald.metrics import PlatformCalls
from herald.runtime.accounts import collect_account_insights
from herald.runtime.app import Overrides, build_publisher
from herald.topics import Platform
from publisher_tiktok.account_stats import UserStats
from publisher_tiktok.adapters.api import HttpTikTokApi
from publisher_tiktok.adapters.forwarder import AuthServiceForwarder
from publisher_tiktok.adapters.limiter import SlidingWindowLimiter
from publisher_tiktok.adapters.store import RETENTION, MongoOutcomes
from publisher_tiktok.api import webhooks
from publisher_tiktok.handlers import TikTokPublisher
from publisher_tiktok.insights import VideoInsights
from publisher_tiktok.ports import TikTokApi
from publisher_tiktok.postids import PostIdWatcher
from publisher_tiktok.settings import Settings


def create_app(
    settings: Settings,
    *,
    tiktok: TikTokApi | None = None,
    **overrides: Unpack[Overrides],
) -> FastAPI:
    """`tiktok` and `overrides` (herald.runtime.app.Overrides) replace what settings build."""
    runtime = build_publisher(Platform.TIKTOK, settings, **overrides)
    http = runtime.http_client(settings.http_client)
    calls = PlatformCalls.create(runtime.registry)
    tiktok = tiktok or HttpTikTokApi(http, settings.tiktok, calls)
    fetcher = runtime.media_fetcher(settings.fetcher)
    outcomes, limiter = MongoOutcomes(runtime.db), SlidingWindowLimiter(settings.tiktok.limits)
    runtime.on_start(outcomes.ensure_indexes)
    forwarder = AuthServiceForwarder(http, settings.auth_webhook_url)
    receiver = webhooks.receiver(settings.tiktok, outcomes, forwarder, runtime.registry)
    runtime.include_router(webhooks.router(receiver))
    watcher = PostIdWatcher(
        store=outcomes,
        api=tiktok,
        limiter=limiter,
        tokens=runtime.tokens,
        emitter=runtime.emitter,
        names=runtime.names,
        settings=settings.tiktok,
    )
    runtime.run_alongside(watcher.run_forever)
    runtime.collect_insights(VideoInsights(tiktok, limiter), settings.insights)
    clock_url = settings.insights.clock_url  # the account job follows the same clock
    stats = UserStats(tiktok, limiter)
    collect_account_insights(runtime, stats, settings.account_insights, clock_url=clock_url)
    publisher = TikTokPublisher(tiktok, fetcher, limiter, outcomes, settings.tiktok)
    return runtime.app(publisher, retention_rules=RETENTION)
