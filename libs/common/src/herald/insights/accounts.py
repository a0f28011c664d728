"""Account insights: one day of each connected account's figures (docs/adr/0020).

A periodic job in each publisher with insights (Facebook Pages, Instagram accounts, TikTok
creators) takes, once a UTC day is over, that day's figures of every account connected to it:
the platform's `AccountReader` reads them with the account's token (one refresh on
`NeedsReauth`), and `AccountSink` tells them as `herald.account.insights_collected.v1` on
`post.insights` (keyed by integration id) before recording them. The accounts are those
`integration.events` says are connected (`herald.insights.directory`). A day the platform will not
give (a revoked grant, a missing scope) is told once as `herald.account.insights_unavailable.v1`
with the platform's code and message: an absence with its reason, never zeros. A day's identity
is `<integration_id>:<day>`, claimed by an insert, so replicas do not take it twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import structlog
from pydantic import BaseModel, Field

from herald.emitter import EventEmitter
from herald.errors import NeedsReauth, PlatformError, Throttled, Transient
from herald.events import AccountInsightsCollected, AccountInsightsUnavailable, FailureDetail
from herald.runtime.ports import Credentials, TokenSource
from herald.topics import Platform

log = structlog.get_logger(__name__)


class AccountInsightsSettings(BaseModel):
    """`HERALD_PUBLISHER_<PLATFORM>_ACCOUNT_INSIGHTS__…`; the job follows the post insights
    job's clock (`INSIGHTS__CLOCK_URL`) in a test system."""

    model_config = {"extra": "forbid"}

    enabled: bool = True
    interval_s: float = Field(default=300.0, gt=0, description="How often the job looks.")
    retry_s: float = Field(default=900.0, gt=0, description="Wait after a transient failure.")
    max_attempts: int = Field(default=5, ge=1)
    batch: int = Field(default=500, ge=1, description="Accounts looked at per run.")


@dataclass(frozen=True)
class Account:
    integration_id: str
    business_id: str
    platform: str
    account_id: str


@dataclass(frozen=True)
class AccountDay:
    account: Account
    day: date
    collected_at: datetime
    metrics: dict[str, float]

    @property
    def key(self) -> str:
        return day_key(self.account.integration_id, self.day)


def day_key(integration_id: str, day: date) -> str:
    return f"{integration_id}:{day.isoformat()}"


def last_finished_day(now: datetime) -> date:
    """The UTC day before the one `now` is in: the last whose figures are complete."""
    return (now.astimezone(UTC) - timedelta(days=1)).date()


class AccountReader(Protocol):
    async def read(self, credentials: Credentials, account: Account, day: date) -> dict[str, float]:
        """The account's figures for `day`, by the platform's metric names; a metric the
        platform answered nothing for is left out."""
        ...


class AccountStore(Protocol):
    async def connected(self, platform: str, limit: int) -> list[Account]: ...

    async def claim(self, key: str, account: Account, day: date, now: datetime) -> bool: ...

    async def collected(self, snapshot: AccountDay) -> None: ...

    async def attempts(self, key: str) -> int: ...

    async def failed(
        self, key: str, error: PlatformError, next_at: datetime | None, max_attempts: int
    ) -> None: ...

    async def ensure_indexes(self) -> None: ...


class AccountSink:
    """Tell a day first (acknowledged by the broker), then record it: a crash between the two
    takes the day again after its lease, and consumers de-duplicate on (integration, day)."""

    def __init__(self, store: AccountStore, emitter: EventEmitter, *, topic: str) -> None:
        self._store = store
        self._emitter = emitter
        self._topic = topic

    async def collected(self, snapshot: AccountDay) -> None:
        account = snapshot.account
        event = AccountInsightsCollected(
            integration_id=account.integration_id,
            business_id=account.business_id,
            platform=Platform(account.platform),
            account_id=account.account_id,
            day=snapshot.day,
            collected_at=snapshot.collected_at,
            metrics=snapshot.metrics,
        )
        await self._emitter.emit(event, topic=self._topic, key=account.integration_id)
        await self._store.collected(snapshot)

    async def unavailable(
        self, account: Account, day: date, error: PlatformError, at: datetime
    ) -> None:
        event = AccountInsightsUnavailable(
            integration_id=account.integration_id,
            business_id=account.business_id,
            platform=Platform(account.platform),
            account_id=account.account_id,
            day=day,
            failed_at=at,
            error=FailureDetail(
                category=error.category,
                code=error.code,
                subcode=error.subcode,
                message=error.message,
                remediation=error.remediation,
            ),
        )
        await self._emitter.emit(event, topic=self._topic, key=account.integration_id)


class AccountCollector:
    def __init__(
        self,
        *,
        platform: Platform,
        store: AccountStore,
        reader: AccountReader,
        tokens: TokenSource,
        sink: AccountSink,
        settings: AccountInsightsSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        refresh_clock: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._platform = platform
        self._store = store
        self._reader = reader
        self._tokens = tokens
        self._sink = sink
        self._settings = settings
        self._clock = clock
        self._refresh_clock = refresh_clock  # before each run (herald.insights.clock)

    async def run_once(self) -> list[AccountDay]:
        """Take the last finished day of every connected account not taken yet."""
        now = self._clock()
        day = last_finished_day(now)
        taken = []
        for account in await self._store.connected(self._platform.value, self._settings.batch):
            snapshot = await self._collect(account, day, now)
            if snapshot is not None:
                taken.append(snapshot)
        return taken

    async def run_forever(self) -> None:
        await self._store.ensure_indexes()
        while True:
            try:
                if self._refresh_clock is not None:
                    await self._refresh_clock()
                taken = await self.run_once()
                if taken:
                    log.info("account_insights.collected", accounts=len(taken))
            except Exception:  # a database blip must not end the job; the next run retries
                log.exception("account_insights.run_failed")
            await asyncio.sleep(self._settings.interval_s)

    async def _collect(self, account: Account, day: date, now: datetime) -> AccountDay | None:
        key = day_key(account.integration_id, day)
        if not await self._store.claim(key, account, day, now):
            return None
        try:
            metrics = await self._read(account, day)
        except PlatformError as error:
            await self._failed(key, account, day, error, now)
            return None
        snapshot = AccountDay(account, day, now, metrics)
        await self._sink.collected(snapshot)
        return snapshot

    async def _read(self, account: Account, day: date) -> dict[str, float]:
        credentials = await self._tokens.get(account.integration_id, account.business_id)
        try:
            return await self._reader.read(credentials, account, day)
        except NeedsReauth:
            credentials = await self._tokens.refresh(account.integration_id, account.business_id)
            return await self._reader.read(credentials, account, day)

    async def _failed(
        self, key: str, account: Account, day: date, error: PlatformError, now: datetime
    ) -> None:
        retry = isinstance(error, Transient | Throttled)
        wait = error.retry_after_s or self._settings.retry_s
        next_at = now + timedelta(seconds=wait) if retry else None
        final = not retry or await self._store.attempts(key) + 1 >= self._settings.max_attempts
        if final:  # told first: a crash before it is recorded failed tells it again
            await self._sink.unavailable(account, day, error, now)
        log.warning(
            "account_insights.failed",
            key=key,
            category=error.category.value,
            code=error.code,
            retry=retry,
        )
        await self._store.failed(key, error, next_at, self._settings.max_attempts)
