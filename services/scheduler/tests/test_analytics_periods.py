"""The analytics summary's period read on the real store (scheduler.analytics.store,
`of_business`): by the period's weeks and days it selects what the whole-business query with the
window applied would, bounds, filters and other businesses included; snapshots stored before the
buckets are read by that query until the backfill has given them buckets, then by bucket.

Then each target's latest snapshot kept beside the history (scheduler.analytics.latest,
`latest_of_business`): what the summary reads from it is what it found in the history before,
whatever order snapshots arrive in, told twice, refused by the platform, or stored before the
latest was kept (then backfilled)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from herald.events import PostInsightsCollected, PostInsightsUnavailable
from herald.mongo import Document
from herald.topics import Platform
from scheduler.analytics import buckets
from scheduler.analytics.latest import KEPT, LATEST
from scheduler.analytics.store import (
    BUCKETED,
    MARKERS,
    SNAPSHOTS,
    MongoAnalytics,
    latest_per_target,
)

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


def periods(seed: int, n: int) -> list[tuple[datetime, datetime]]:
    """The Overview's periods back from NOW, and n random ones over the history."""
    rng = random.Random(seed)
    found = [(NOW - timedelta(days=d), NOW) for d in (7, 28, 90, 366)]
    for _ in range(n):
        start = NOW - timedelta(days=rng.uniform(0, 130), seconds=rng.randrange(86400))
        found.append((start, start + timedelta(days=rng.uniform(0.01, 60))))
    return found


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
    for start, end in periods(3, 12):
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


Seen = set[tuple[str, int, float]]


async def from_history(
    analytics: MongoAnalytics, start: object, end: object, **filters: str
) -> Seen:
    """What the summary found before: the period's history, each target's latest with figures."""
    found = await analytics.of_business("b", (start, end), **filters)  # type: ignore[arg-type]
    latest = latest_per_target(s for s in found if s.unavailable is None)
    return {(s.target_id, s.age_s, s.metrics["post_media_view"]) for s in latest}


async def kept(analytics: MongoAnalytics, start: datetime, end: datetime, **filters: str) -> Seen:
    found = await analytics.latest_of_business("b", (start, end), **filters)
    keys = [s.target_id for s in found]
    assert len(keys) == len(set(keys)), "a target read twice"
    return {(s.target_id, s.age_s, s.metrics["post_media_view"]) for s in found}


def i_of(told: PostInsightsCollected) -> int:
    """The figure `event(i, ...)` gives: its i."""
    return int(told.post_id.rsplit("-p", 1)[1])


def refusal(told: PostInsightsCollected, age_s: int) -> PostInsightsUnavailable:
    return PostInsightsUnavailable.model_validate(
        told.model_dump(exclude={"age_s", "collected_at", "metrics"})
        | {
            "age_s": age_s,
            "failed_at": told.collected_at + timedelta(seconds=age_s),
            "error": {"category": "permanent", "code": "10", "message": "too few viewers"},
        }
    )


async def test_the_kept_latest_is_what_the_history_gives_in_any_order(
    mongo_db: AsyncDatabase[Document],
) -> None:
    told = history(60)
    random.Random(7).shuffle(told)  # a 7-day snapshot may arrive before the 1-hour one
    analytics = MongoAnalytics(mongo_db)
    await analytics.ensure_indexes()
    await analytics.backfill()
    assert await analytics.backfill_latest() == 0  # a first start: nothing stored yet
    await store_of(mongo_db, told)
    # Told again (redelivered), with other figures: the first told stays, in both.
    again = told[5].model_copy(update={"metrics": {"post_media_view": -1.0}})
    assert not await analytics.record(again, kind=None, event_id="again", received_at=NOW)
    # Refused at a greater age than any with figures: the latest with figures still counts.
    refused = refusal(told[0], 30 * 86400)
    assert await analytics.record(refused, kind=None, event_id="r", received_at=NOW)
    # Only refusals: not counted at all.
    lonely = event(500, NOW - timedelta(days=2), 3600)
    assert await analytics.record(refusal(lonely, 3600), kind=None, event_id="l", received_at=NOW)

    assert await mongo_db[LATEST].count_documents({"business_id": "b"}) == 60
    for start, end in periods(11, 10):
        want = await from_history(analytics, start, end)
        assert await kept(analytics, start, end) == want, (start, end)
    start, end = NOW - timedelta(days=130), NOW + timedelta(days=1)  # b-p0 is dated NOW
    everything = await kept(analytics, start, end)
    assert len(everything) == 60
    assert all(age == 604800 for _, age, _ in everything)
    assert -1.0 not in {figure for _, _, figure in everything}
    for filters in ({"platform": "instagram"}, {"integration_id": "tiktok-1"}):
        found = await kept(analytics, start, end, **filters)
        assert found == await from_history(analytics, start, end, **filters)
        assert found


async def test_a_crash_between_the_two_writes_is_mended_when_the_event_is_told_again(
    mongo_db: AsyncDatabase[Document],
) -> None:
    analytics = MongoAnalytics(mongo_db)
    await analytics.ensure_indexes()
    await analytics.backfill()
    await analytics.backfill_latest()
    first = event(1, NOW - timedelta(days=3), 86400)
    assert await analytics.record(first, kind=None, event_id="1", received_at=NOW)
    await mongo_db[LATEST].delete_many({})  # the process died after the history's write
    again = first.model_copy(update={"metrics": {"post_media_view": 99.0}})
    assert not await analytics.record(again, kind=None, event_id="2", received_at=NOW)
    found = await kept(analytics, NOW - timedelta(days=7), NOW)
    assert found == {(first.target_id, 86400, float(i_of(first)))}


async def test_history_stored_before_the_latest_was_kept_counts_before_and_after_the_backfill(
    mongo_db: AsyncDatabase[Document],
) -> None:
    told = history(40)
    await store_of(mongo_db, told)
    await MongoAnalytics(mongo_db).record(
        refusal(told[3], 30 * 86400), kind=None, event_id="r", received_at=NOW
    )
    await MongoAnalytics(mongo_db).backfill()  # the buckets' marker: the version before had it
    # As the version before stored them: no latest, no marker.
    await mongo_db[LATEST].drop()
    assert await mongo_db[MARKERS].find_one({"_id": KEPT}) is None
    start, end = NOW - timedelta(days=60), NOW - timedelta(days=2)

    before = MongoAnalytics(mongo_db)
    want = await from_history(before, start, end)
    assert want
    assert await kept(before, start, end) == want  # found in the history
    late = event(900, NOW - timedelta(days=10), 3600)  # recorded while the backfill runs
    assert await before.record(late, kind=None, event_id="late", received_at=NOW)
    assert await before.backfill_latest() == 40 + 20 + 1  # every target with figures, "other" too
    assert await mongo_db[MARKERS].find_one({"_id": KEPT}) is not None
    want.add((late.target_id, 3600, float(i_of(late))))
    assert await kept(before, start, end) == want  # from the kept latest now

    after = MongoAnalytics(mongo_db)  # another replica, or the next start
    assert await after.backfill_latest() == 0
    assert await kept(after, start, end) == want
    later = event(900, NOW - timedelta(days=10), 86400)
    assert await after.record(later, kind=None, event_id="later", received_at=NOW)
    assert (late.target_id, 86400, float(i_of(later))) in await kept(after, start, end)
    assert await mongo_db[SNAPSHOTS].count_documents({"target_id": late.target_id}) == 2


async def test_the_latest_is_read_by_declared_indexes(mongo_db: AsyncDatabase[Document]) -> None:
    await MongoAnalytics(mongo_db).ensure_indexes()
    indexes = await mongo_db[LATEST].index_information()
    keys = {tuple(field for field, _ in spec["key"]) for spec in indexes.values()}
    assert ("business_id", "published_day") in keys
    assert ("business_id", "published_week") in keys
