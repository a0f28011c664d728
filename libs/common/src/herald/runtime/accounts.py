"""The account insights job in a publisher (docs/adr/0020): the directory of connected accounts
on `integration.events` and the job that takes each one's finished days, on the publisher's own
database, emitting on `post.insights`.

    collect_account_insights(runtime, PageAccountInsights(pages), settings.account_insights,
                             clock_url=settings.insights.clock_url)
"""

from __future__ import annotations

from typing import Any

import structlog

from herald.http import HttpClientSettings
from herald.insights.account_store import MongoAccounts
from herald.insights.accounts import (
    AccountCollector,
    AccountInsightsSettings,
    AccountReader,
    AccountSink,
)
from herald.insights.clock import FollowedClock
from herald.insights.directory import AccountDirectory
from herald.runtime.app import PublisherRuntime

log = structlog.get_logger(__name__)


def collect_account_insights(
    runtime: PublisherRuntime,
    reader: AccountReader,
    settings: AccountInsightsSettings,
    *,
    clock_url: str | None = None,
) -> AccountCollector:
    """Learn the platform's connected accounts from `integration.events` (always: the service
    lists that topic among what it consumes) and, when `settings.enabled`, run the job alongside.
    `clock_url` is a test system's sandbox clock (the post insights job's, ADR 0020)."""
    store = MongoAccounts(runtime.db)
    directory = AccountDirectory(runtime.platform, store)
    directory.register(runtime.broker, topic=runtime.names.integration_events, group=runtime.group)
    runtime.on_stop(directory.close)
    runtime.on_start(store.ensure_indexes)
    clock: dict[str, Any] = {}
    if clock_url is not None:
        followed = FollowedClock(runtime.http_client(HttpClientSettings()), clock_url)
        clock = {"clock": followed, "refresh_clock": followed.refresh}
        log.warning("account_insights.clock_followed", url=clock_url)
    collector = AccountCollector(
        platform=runtime.platform,
        store=store,
        reader=reader,
        tokens=runtime.tokens,
        sink=AccountSink(store, runtime.emitter, topic=runtime.names.post_insights),
        settings=settings,
        **clock,
    )
    if settings.enabled:
        runtime.run_alongside(collector.run_forever)
    return collector
