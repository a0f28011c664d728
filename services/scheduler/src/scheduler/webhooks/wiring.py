"""Builds the webhook pieces for the scheduler's composition root (`scheduler.app`, ADR 0021)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from herald.mongo import Document
from herald.retention import DAY_S, Retention, Rule
from herald.sealing import Keyring, decode_key, deployment_problems
from herald.settings import ConfigurationError
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
log = structlog.get_logger(__name__)
VAULT = "HERALD_SCHEDULER_WEBHOOKS__VAULT"
# A key for local runs only: 32 bytes anyone can read here. Refused unless the server listens on
# loopback only (nothing but this machine reaches it); the local stack generates its own.
DEV_VAULT_KEY = base64.b64encode(b"herald-dev-webhook-secrets-key!!").decode()


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
        await self.store.reseal()
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
    *,
    host: str,
    production: bool = False,
) -> Webhooks:
    """The webhook pieces; `deps.notices` tells through them from now on, and `loops` (the
    service's background work) gets the sender and the expiry check when enabled. Refuses
    (ConfigurationError) a keyring unfit to seal the signing secrets (`keyring`)."""
    store = WebhookStore(
        db,
        keyring(settings, http_host=host, production=production),
        endpoints_cache_s=settings.endpoints_cache_s,
    )
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


def keyring(settings: WebhookSettings, *, http_host: str, production: bool = False) -> Keyring:
    """The keyring sealing signing secrets at rest; refuses (ConfigurationError) what
    `keyring_refusals` names. Without keys, the public development key (a local run)."""
    problems = keyring_refusals(settings, http_host=http_host, production=production)
    if problems:
        lines = "\n  ".join(problems)
        msg = f"invalid configuration for scheduler (webhook secrets):\n  {lines}"
        raise ConfigurationError(msg)
    keys = {kid: v.get_secret_value() for kid, v in settings.vault.keys.items()}
    if not keys:
        log.warning("webhook.development_key", hint=f"set {VAULT}__KEYS outside local runs")
        keys = {"dev": DEV_VAULT_KEY}
    ring = {kid: decode_key(value) or b"" for kid, value in keys.items()}
    return Keyring(ring, settings.vault.primary_kid or next(iter(ring)))


def keyring_refusals(
    settings: WebhookSettings, *, http_host: str, production: bool = False
) -> list[str]:
    """What unfits the keyring, each naming its variable: a malformed key anywhere; no key, or
    the public development key, in production or when the server listens beyond loopback."""
    keys = {kid: v.get_secret_value() for kid, v in settings.vault.keys.items()}
    return deployment_problems(
        keys,
        settings.vault.primary_kid,
        VAULT,
        development_key=DEV_VAULT_KEY,
        sealed="webhook secrets",
        production=production,
        environment_variable="HERALD_SCHEDULER_ENVIRONMENT",
        host=http_host,
    )


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
