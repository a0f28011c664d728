"""The account insights job's documents on FerretDB: the directory keeps each integration's
latest event (an older one, redelivered or out of order, changes nothing), only active and
expiring accounts are read, and a day is claimed once (again only after a retry time)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from herald.errors import Permanent, Transient
from herald.insights.account_store import MongoAccounts
from herald.insights.accounts import Account, AccountDay, day_key
from herald.mongo import Document

pytestmark = pytest.mark.connected

T0 = datetime(2026, 12, 7, 0, 5, tzinfo=UTC)
DAY = date(2026, 12, 6)
PAGE = Account("int_1", "biz_1", "facebook", "page_1")


async def test_the_latest_event_of_an_integration_decides(
    mongo_db: AsyncDatabase[Document],
) -> None:
    store = MongoAccounts(mongo_db)
    await store.ensure_indexes()
    other = Account("int_2", "biz_1", "facebook", "page_2")
    assert await store.observed(PAGE, "active", T0)
    assert await store.observed(other, "expiring", T0)
    assert await store.observed(Account("int_3", "biz_1", "tiktok", "open_3"), "active", T0)
    assert {a.integration_id for a in await store.connected("facebook", 10)} == {"int_1", "int_2"}
    assert await store.observed(PAGE, "disconnected", T0 + timedelta(minutes=1))
    assert not await store.observed(PAGE, "active", T0)  # older: a redelivery changes nothing
    assert [a.integration_id for a in await store.connected("facebook", 10)] == ["int_2"]


async def test_a_day_is_claimed_once_and_again_only_after_its_retry_time(
    mongo_db: AsyncDatabase[Document],
) -> None:
    store = MongoAccounts(mongo_db)
    key = day_key(PAGE.integration_id, DAY)
    assert await store.claim(key, PAGE, DAY, T0)
    assert not await store.claim(key, PAGE, DAY, T0)  # held
    await store.failed(key, Transient("busy", code="2"), T0 + timedelta(minutes=15), 5)
    assert not await store.claim(key, PAGE, DAY, T0 + timedelta(minutes=10))
    assert await store.claim(key, PAGE, DAY, T0 + timedelta(minutes=16))
    assert await store.attempts(key) == 1
    await store.collected(AccountDay(PAGE, DAY, T0, {"page_follows": 1200.0}))
    assert not await store.claim(key, PAGE, DAY, T0 + timedelta(days=1))  # taken for good
    refused = day_key("int_9", DAY)
    assert await store.claim(refused, PAGE, DAY, T0)
    await store.failed(refused, Permanent("(#10) no permission", code="10"), None, 5)
    assert not await store.claim(refused, PAGE, DAY, T0 + timedelta(days=1))
