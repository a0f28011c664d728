"""The analytics package as the scheduler's composition root sees it: one object it builds with
its stores, subscribes when it registers its consumers, installs on the app and closes."""

from __future__ import annotations

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from pymongo.asynchronous.database import AsyncDatabase

from herald.mongo import Document
from scheduler.analytics import account_api, api, refresh
from scheduler.analytics.account_store import MongoAccountDays
from scheduler.analytics.consumer import InsightsSubscriber, PricingSubscriber
from scheduler.analytics.store import MongoAnalytics
from scheduler.handlers.base import Deps
from scheduler.settings import AnalyticsRefreshSettings


class Analytics:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.store = MongoAnalytics(db)
        self.account_days = MongoAccountDays(db)
        self.refreshes = refresh.MongoRefreshes(db)
        self._subscribers: list[InsightsSubscriber] = []

    async def ensure_indexes(self) -> None:
        await self.store.ensure_indexes()
        await self.account_days.ensure_indexes()

    async def backfill(self) -> None:
        """Run in the background after startup: buckets for snapshots stored before them."""
        await self.store.backfill_until_done()

    def subscribe(self, broker: KafkaBroker, deps: Deps, *, group: str) -> None:
        """Consume `post.insights` (group `<group>.insights`) and WhatsApp's pricing from
        `message.status` (group `<group>.pricing`), beside the scheduler's own groups."""
        insights = InsightsSubscriber(self.store, deps.posts, deps.clock, self.account_days)
        insights.register(broker, topic=deps.names.post_insights, group=group)
        pricing = PricingSubscriber(self.store, deps.posts, deps.clock)
        pricing.register(broker, topic=deps.names.message_status, group=group)
        self._subscribers = [insights, pricing]

    def install(self, app: FastAPI, refreshing: AnalyticsRefreshSettings | None = None) -> None:
        app.include_router(api.router)
        app.include_router(api.summary_router)
        app.include_router(account_api.router)
        app.state.account_days = self.account_days
        app.include_router(refresh.router)
        app.state.analytics = self.store
        app.state.analytics_refresh = refreshing or AnalyticsRefreshSettings()
        app.state.analytics_refreshes = self.refreshes

    def close(self) -> None:
        for subscriber in self._subscribers:
            subscriber.close()
