"""`integration.expiring`: told once per deadline, `expiring_days_ahead` days before a connection
ends. auth-service names the deadline in every integration event (`reconnect_by`, ADR 0021); the
scheduler remembers it per integration and looks every `expiry_check_s`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

from herald.notices import IntegrationExpiring
from herald.topics import Platform
from scheduler.webhooks.notify import Notifier, notice_id
from scheduler.webhooks.settings import WebhookSettings
from scheduler.webhooks.store import WebhookStore

log = structlog.get_logger(__name__)


async def warn_expiring(
    store: WebhookStore, notifier: Notifier, settings: WebhookSettings, now: datetime
) -> int:
    """Tell every integration whose end is within `expiring_days_ahead`; returns how many."""
    ahead = timedelta(days=settings.expiring_days_ahead)
    told = 0
    for row in await store.watched():
        ends = _aware(row["reconnect_by"])
        warned = row.get("warned_for")
        if ends <= now or ends - now > ahead or (warned is not None and _aware(warned) == ends):
            continue
        notice = IntegrationExpiring(
            business_id=row["business_id"],
            occurred_at=now,
            integration_id=row["_id"],
            platform=Platform(row["platform"]),
            account_id=row["account_id"],
            reconnect_by=ends,
            days_left=(ends - now).days,
        )
        await notifier.publish(notice, notice_id(row["_id"], "expiring", ends.isoformat()))
        await store.warned(row["_id"], ends)
        told += 1
    return told


async def expiry_loop(
    store: WebhookStore,
    notifier: Notifier,
    settings: WebhookSettings,
    clock: Callable[[], datetime],
) -> None:
    while True:
        try:
            await warn_expiring(store, notifier, settings, clock())
        except Exception:  # the next pass looks again; a warning is sent once it can be
            log.exception("webhooks.expiry_pass_failed")
        await asyncio.sleep(settings.expiry_check_s)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
