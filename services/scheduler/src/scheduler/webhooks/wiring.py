"""Builds the webhook pieces for the scheduler's composition root (`scheduler.app`, ADR 0021)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from herald.mongo import Document
from herald.retention import DAY_S, Retention, Rule
from scheduler.adapters.rejections import MongoRejections
from scheduler.api import rejections
from scheduler.handlers.base import Deps
from scheduler.metrics import WebhookMetrics
from scheduler.webhooks import api
from scheduler.webhooks.expiry import expiry_loop
from scheduler.webhooks.notify import Notifier
from scheduler.webhooks.sender import Sender
from scheduler.webhooks.settings import WebhookSettings
from scheduler.webhooks.store import WebhookStore

Loop = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class Webhooks:
    settings: WebhookSettings
    store: WebhookStore
    notifier: Notifier
    sender: Sender
    rejections: MongoRejections
    clock: Callable[[], datetime]

    async def deliver_forever(self) -> None:
        await self.store.ensure_indexes()
        await self.rejections.ensure_indexes()
        await self.sender.run_forever()

    async def warn_forever(self) -> None:
        await expiry_loop(self.store, self.notifier, self.settings, self.clock)


def build(
    db: AsyncDatabase[Document],
    deps: Deps,
    settings: WebhookSettings,
    loops: list[Loop],
    metrics: WebhookMetrics,
) -> Webhooks:
    """The webhook pieces; `deps.notices` tells through them from now on, and `loops` (the
    service's background work) gets the sender and the expiry check when enabled."""
    store = WebhookStore(db)
    notifier = Notifier(
        posts=deps.posts, store=store, emitter=deps.emitter, names=deps.names, clock=deps.clock
    )
    sender = Sender(store, notifier, settings, metrics, clock=deps.clock)
    notifier.wake = sender.wake
    deps.notices = notifier
    hooks = Webhooks(settings, store, notifier, sender, MongoRejections(db), deps.clock)
    if settings.enabled:
        loops.extend([hooks.deliver_forever, hooks.warn_forever, sweep(db, settings).run_forever])
    return hooks


def sweep(db: AsyncDatabase[Document], settings: WebhookSettings) -> Retention:
    """What only grows otherwise: claims (needed while an attempt runs), attempts, and finished
    deliveries, `keep_days` after. Its counts are not exported: the scheduler's own sweep owns
    `herald_retention_deleted_total` in the service's registry."""
    rules = [
        Rule("webhook_claims", "claimed_at", keep_s=DAY_S),
        Rule("webhook_attempts", "at"),
        Rule("webhook_deliveries", "created_at", where={"state": {"$ne": "pending"}}),
    ]
    return Retention(db, rules, keep_s=settings.keep_days * DAY_S, every_s=3600.0)


def mount(app: FastAPI, hooks: Webhooks) -> None:
    app.include_router(api.router)
    app.include_router(rejections.router)
    app.state.webhooks = hooks
    app.state.rejections = hooks.rejections
