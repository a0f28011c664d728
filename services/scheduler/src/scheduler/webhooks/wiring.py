"""Builds the webhook pieces for the scheduler's composition root (`scheduler.app`, ADR 0021)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from herald.mongo import Document
from scheduler.adapters.rejections import MongoRejections
from scheduler.api import rejections
from scheduler.handlers.base import Deps
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
) -> Webhooks:
    """The webhook pieces; `deps.notices` tells through them from now on, and `loops` (the
    service's background work) gets the sender and the expiry check when enabled."""
    store = WebhookStore(db)
    notifier = Notifier(
        posts=deps.posts, store=store, emitter=deps.emitter, names=deps.names, clock=deps.clock
    )
    sender = Sender(store, notifier, settings, clock=deps.clock)
    notifier.wake = sender.wake
    deps.notices = notifier
    hooks = Webhooks(settings, store, notifier, sender, MongoRejections(db), deps.clock)
    if settings.enabled:
        loops.extend([hooks.deliver_forever, hooks.warn_forever])
    return hooks


def mount(app: FastAPI, hooks: Webhooks) -> None:
    app.include_router(api.router)
    app.include_router(rejections.router)
    app.state.webhooks = hooks
    app.state.rejections = hooks.rejections
