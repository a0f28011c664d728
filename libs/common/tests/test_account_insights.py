"""The account insights job with fakes: one day per connected account, once, after the day is
over; a refresh on an expired token; a grant the platform refuses told as that day's absence with
its reason; Graph's day answers read into numbers, missing data left out (never 0)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest

from herald.errors import NeedsReauth, Permanent, PlatformError, Transient
from herald.events import AccountInsightsCollected, AccountInsightsUnavailable
from herald.graph.accounts import day_values, day_window
from herald.insights.accounts import (
    Account,
    AccountCollector,
    AccountDay,
    AccountInsightsSettings,
    AccountSink,
    last_finished_day,
)
from herald.runtime.ports import Credentials
from herald.testing import RecordingEmitter, StaticTokens
from herald.topics import Platform

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 0, 10, tzinfo=UTC)
DAY = date(2026, 12, 6)
PAGE = Account("int_1", "biz_1", "facebook", "page_1")


@dataclass
class MemoryAccounts:
    accounts: list[Account] = field(default_factory=lambda: [PAGE])
    states: dict[str, str] = field(default_factory=dict)
    attempts_of: dict[str, int] = field(default_factory=dict)
    kept: list[AccountDay] = field(default_factory=list)

    async def connected(self, platform: str, limit: int) -> list[Account]:
        return [a for a in self.accounts if a.platform == platform][:limit]

    async def claim(self, key: str, account: Account, day: date, now: datetime) -> bool:
        if self.states.get(key) in ("collected", "failed", "collecting"):
            return False
        self.states[key] = "collecting"
        return True

    async def collected(self, snapshot: AccountDay) -> None:
        self.states[snapshot.key] = "collected"
        self.kept.append(snapshot)

    async def attempts(self, key: str) -> int:
        return self.attempts_of.get(key, 0)

    async def failed(
        self, key: str, error: PlatformError, next_at: datetime | None, max_attempts: int
    ) -> None:
        self.attempts_of[key] = self.attempts_of.get(key, 0) + 1
        self.states[key] = "retry" if next_at and self.attempts_of[key] < max_attempts else "failed"

    async def ensure_indexes(self) -> None:
        return None


@dataclass
class ScriptedReader:
    answers: list[dict[str, float] | PlatformError] = field(default_factory=list)
    seen: list[tuple[str, date]] = field(default_factory=list)

    async def read(self, credentials: Credentials, account: Account, day: date) -> dict[str, float]:
        self.seen.append((credentials.access_token, day))
        answer = self.answers.pop(0) if self.answers else {"page_follows": 1200.0}
        if isinstance(answer, PlatformError):
            raise answer
        return answer


def job(
    store: MemoryAccounts, reader: ScriptedReader, emitter: RecordingEmitter, **settings: Any
) -> AccountCollector:
    return AccountCollector(
        platform=Platform.FACEBOOK,
        store=store,
        reader=reader,
        tokens=StaticTokens(),
        sink=AccountSink(store, emitter, topic="post.insights"),
        settings=AccountInsightsSettings(**settings),
        clock=lambda: NOW,
    )


@pytest.mark.parametrize(
    ("now", "day"),
    [
        (datetime(2026, 12, 7, 0, 0, tzinfo=UTC), date(2026, 12, 6)),
        (datetime(2026, 12, 7, 23, 59, tzinfo=UTC), date(2026, 12, 6)),
        (datetime(2026, 1, 1, 0, 1, tzinfo=UTC), date(2025, 12, 31)),
    ],
)
def test_the_last_finished_day(now: datetime, day: date) -> None:
    assert last_finished_day(now) == day


async def test_one_day_per_account_told_then_kept() -> None:
    store, reader, emitter = MemoryAccounts(), ScriptedReader(), RecordingEmitter()
    taken = await job(store, reader, emitter).run_once()
    assert [(s.account, s.day) for s in taken] == [(PAGE, DAY)]
    (sent,) = emitter.emitted
    assert (sent.topic, sent.key) == ("post.insights", "int_1")
    assert isinstance(sent.event, AccountInsightsCollected)
    assert (sent.event.day, sent.event.metrics) == (DAY, {"page_follows": 1200.0})
    assert store.states == {"int_1:2026-12-06": "collected"}
    assert await job(store, reader, emitter).run_once() == []  # the same day is not taken again
    assert len(emitter.emitted) == 1


async def test_an_expired_token_is_refreshed_once() -> None:
    store, emitter = MemoryAccounts(), RecordingEmitter()
    reader = ScriptedReader([NeedsReauth("expired", code="190")])
    await job(store, reader, emitter).run_once()
    assert [token for token, _ in reader.seen] == ["sandbox-token", "sandbox-token-r1"]
    assert emitter.of_type(AccountInsightsCollected)


async def test_a_refused_grant_is_an_absence_with_the_platforms_reason() -> None:
    store, emitter = MemoryAccounts(), RecordingEmitter()
    missed = NeedsReauth("Fields need the scope user.info.stats.", code="scope_permission_missed")
    reader = ScriptedReader([missed, missed])
    assert await job(store, reader, emitter).run_once() == []
    (told,) = emitter.of_type(AccountInsightsUnavailable)
    assert isinstance(told, AccountInsightsUnavailable)
    assert (told.day, told.error.code) == (DAY, "scope_permission_missed")
    assert "user.info.stats" in told.error.message
    assert not emitter.of_type(AccountInsightsCollected)  # no zeros in its place
    assert store.states["int_1:2026-12-06"] == "failed"


async def test_a_transient_failure_is_retried_and_told_at_the_last_attempt() -> None:
    store, emitter = MemoryAccounts(), RecordingEmitter()
    reader = ScriptedReader([Transient("busy", code="2"), Transient("busy", code="2")])
    collector = job(store, reader, emitter, max_attempts=2)
    await collector.run_once()
    assert store.states["int_1:2026-12-06"] == "retry"
    assert emitter.emitted == []
    store.states["int_1:2026-12-06"] = "retry-due"  # the fake's lease is over
    await collector.run_once()
    assert [e.event.error.code for e in emitter.emitted] == ["2"]  # type: ignore[attr-defined]


async def test_a_permanent_failure_is_not_retried() -> None:
    store, emitter = MemoryAccounts(), RecordingEmitter()
    reader = ScriptedReader([Permanent("(#100) Object does not exist", code="100")])
    await job(store, reader, emitter).run_once()
    assert store.states["int_1:2026-12-06"] == "failed"
    assert len(emitter.of_type(AccountInsightsUnavailable)) == 1


def test_graph_day_answers_become_numbers_and_missing_data_stays_absent() -> None:
    body = {
        "data": [
            {
                "name": "page_follows",
                "period": "day",
                "values": [
                    {"value": 1210, "end_time": "2026-12-06T00:00:00+0000"},
                    {"value": 1230, "end_time": "2026-12-07T00:00:00+0000"},
                ],
            },
            {"name": "views", "period": "day", "total_value": {"value": 512}},
            {"name": "reach", "period": "day", "values": []},  # no data: not a zero
            {"name": "odd", "values": [{"value": "n/a", "end_time": "2026-12-07T00:00:00+0000"}]},
        ]
    }
    assert day_values(body, DAY) == {"page_follows": 1230.0, "views": 512.0}
    assert day_window(DAY) == {"since": 1796515200, "until": 1796601600}
