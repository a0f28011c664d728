"""The analytics summary's period read on the real store (scheduler.analytics.store,
`of_business`): by the period's weeks and days it selects what the whole-business query with the
window applied would, bounds, filters and other businesses included; snapshots stored before the
buckets are read by that query until the backfill has given them buckets, then by bucket."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from herald.events import PostInsightsCollected, PostInsightsUnavailable
from herald.mongo import Document
from herald.topics import Platform
from scheduler.analytics import buckets
from scheduler.analytics.store import BUCKETED, MARKERS, SNAPSHOTS, MongoAnalytics

pytestmark = pytest.mark.connected

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
PLATFORMS = [Platform.FACEBOOK, Platform.INSTAGRAM, Platform.TIKTOK]
AGES = (3600, 86400, 604800)


def event(
    i: int, published: datetime | None, age_s: int, *, business: str = "b"
) -> PostInsightsCollected:
    platform = PLATFORMS[i % len(PLATFORMS)]
    collected = (published or NOW - timedelta(days=i % 50)) + timedelta(seconds=age_s)
    return PostInsightsCollected(
        post_id=f"{business}-p{i}",
        target_id=f"{business}-p{i}-0",
        business_id=business,
        integration_id=f"{platform.value}-{i % 2}",
        platform=platform,
        platform_post_id=f"pp{i}",
        published_at=published,
        age_s=age_s,
        collected_at=collected,
        metrics={"post_media_view": float(i)},
    )


async def store_of(db: AsyncDatabase[Document], events: list[PostInsightsCollected]) -> None:
    analytics = MongoAnalytics(db)
    await analytics.ensure_indexes()
    for e in events:
        assert await analytics.record(e, kind=None, event_id=f"e-{e.target_id}", received_at=NOW)


def expected(
    events: list[PostInsightsCollected],
    start: datetime,
    end: datetime,
    *,
    platform: str | None = None,
    integration_id: str | None = None,
) -> set[tuple[str, int]]:
    """What the whole-business query with the window applied selects, from the events told."""
    return {
        (e.target_id, e.age_s)
        for e in events
        if e.business_id == "b"
        and (platform is None or e.platform.value == platform)
        and (integration_id is None or e.integration_id == integration_id)
        and start <= buckets.published_moment(e.published_at, e.collected_at, e.age_s) < end
    }


async def read(
    analytics: MongoAnalytics, start: datetime, end: datetime, **filters: str | None
) -> set[tuple[str, int]]:
    found = await analytics.of_business("b", (start, end), **filters)
    keys = [(s.target_id, s.age_s) for s in found]
    assert len(keys) == len(set(keys)), "a snapshot read twice"
    return set(keys)


def history(n: int) -> list[PostInsightsCollected]:
    """n targets published over ~120 days (a few with no publication time), three ages each,
    and another business's at the same times."""
    rng = random.Random(20)
    made: list[PostInsightsCollected] = []
    for i in range(n):
        published = NOW - timedelta(days=rng.uniform(0, 120)) if i % 9 else None
        made.extend(event(i, published, age) for age in AGES)
    made.extend(event(i, NOW - timedelta(days=i), 3600, business="other") for i in range(20))
    return made


async def test_a_period_reads_what_the_whole_business_query_would(
    mongo_db: AsyncDatabase[Document],
) -> None:
    told = history(90)
    await store_of(mongo_db, told)
    analytics = MongoAnalytics(mongo_db)
    assert await analytics.backfill() == 0  # nothing older: only the marker is written
    assert await analytics.bucketed()
    rng = random.Random(3)
    periods = [(NOW - timedelta(days=d), NOW) for d in (7, 28, 90, 366)]
    for _ in range(12):
        start = NOW - timedelta(days=rng.uniform(0, 130), seconds=rng.randrange(86400))
        periods.append((start, start + timedelta(days=rng.uniform(0.01, 60))))
    for start, end in periods:
        assert await read(analytics, start, end) == expected(told, start, end), (start, end)
    start, end = NOW - timedelta(days=90), NOW
    for platform in ("facebook", "instagram"):
        found = await read(analytics, start, end, platform=platform)
        assert found == expected(told, start, end, platform=platform)
        assert found
    found = await read(analytics, start, end, integration_id="tiktok-1")
    assert found == expected(told, start, end, integration_id="tiktok-1")
    assert found


async def test_a_period_keeps_its_exact_bounds(mongo_db: AsyncDatabase[Document]) -> None:
    start = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)  # a Tuesday, mid-morning
    end = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    moments = [
        start - timedelta(microseconds=1),
        start,
        start + timedelta(hours=1),
        end - timedelta(microseconds=1),
        end,
        end + timedelta(hours=1),
    ]
    told = [event(i, at, 3600) for i, at in enumerate(moments)]
    await store_of(mongo_db, told)
    analytics = MongoAnalytics(mongo_db)
    await analytics.backfill()
    assert await read(analytics, start, end) == {(f"b-p{i}-0", 3600) for i in (1, 2, 3)}


async def test_snapshots_stored_before_buckets_count_before_and_after_the_backfill(
    mongo_db: AsyncDatabase[Document],
) -> None:
    told = history(30)
    await store_of(mongo_db, told)
    refused = PostInsightsUnavailable.model_validate(
        told[0].model_dump(exclude={"age_s", "collected_at", "metrics"})
        | {
            "age_s": 7 * 86400 + 1,
            "failed_at": NOW,
            "error": {"category": "permanent", "code": "10", "message": "too few viewers"},
        }
    )
    assert await MongoAnalytics(mongo_db).record(refused, kind=None, event_id="r", received_at=NOW)
    stored = mongo_db[SNAPSHOTS]
    # As the version before stored them: no buckets, no marker.
    unset = {"$unset": {buckets.DAY: "", buckets.WEEK: ""}}
    assert (await stored.update_many({}, unset)).modified_count == len(told) + 1
    start, end = NOW - timedelta(days=45), NOW - timedelta(days=3)
    want = expected(told, start, end)
    refused_at = buckets.published_moment(refused.published_at, refused.failed_at, refused.age_s)
    assert start <= refused_at < end  # no publication time: told 7 days and 1 s after it
    want.add((refused.target_id, refused.age_s))

    before = MongoAnalytics(mongo_db)
    assert not await before.bucketed()
    assert await read(before, start, end) == want  # the whole-business query
    assert await before.backfill() == len(told) + 1
    assert await before.bucketed()
    assert await stored.count_documents({buckets.DAY: {"$exists": False}}) == 0
    assert await mongo_db[MARKERS].find_one({"_id": BUCKETED}) is not None
    assert await read(before, start, end) == want  # by bucket now

    after = MongoAnalytics(mongo_db)  # another replica, or the next start
    assert await after.bucketed()
    assert await after.backfill() == 0
    assert await read(after, start, end) == want
    for doc in await stored.find({"business_id": "b"}).to_list():
        at = buckets.published_moment(
            doc["published_at"] and doc["published_at"].replace(tzinfo=UTC),
            doc["collected_at"].replace(tzinfo=UTC),
            doc["age_s"],
        )
        assert {k: doc[k] for k in (buckets.DAY, buckets.WEEK)} == buckets.stamp(at)


async def test_the_period_read_is_served_by_declared_indexes(
    mongo_db: AsyncDatabase[Document],
) -> None:
    await MongoAnalytics(mongo_db).ensure_indexes()
    indexes = await mongo_db[SNAPSHOTS].index_information()
    keys = {tuple(field for field, _ in spec["key"]) for spec in indexes.values()}
    assert ("business_id", buckets.DAY) in keys
    assert ("business_id", buckets.WEEK) in keys
