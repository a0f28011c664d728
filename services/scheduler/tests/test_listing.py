"""Listing a business's posts a page at a time (scheduler.adapters.listing) on the real store:
the same posts in the same order as one sorted query would give, across pages, filters, due
days, racing submissions and posts stored before pages existed."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from herald.events import Schedule
from herald.mongo import Document
from herald.topics import Platform
from scheduler.adapters import listing
from scheduler.adapters.posts import MongoPosts
from scheduler.models import Post, TargetSpec
from scheduler.ports import PostFilter

pytestmark = pytest.mark.connected

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
PLATFORMS = [Platform.FACEBOOK, Platform.INSTAGRAM, Platform.TIKTOK]
# Small pages, so that a few dozen posts span several (the code reads the module's value).
PAGE_SIZE = 8


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing, "PAGE_SIZE", PAGE_SIZE)


def post(i: int, *, business: str = "b", created: datetime | None = None) -> Post:
    platform = PLATFORMS[i % len(PLATFORMS)]
    return Post(
        id=f"p{i:04d}",
        business_id=business,
        idempotency_key=f"k{i}",
        fingerprint="f",
        source="api",
        content={"text": f"post {i}"},
        targets=(TargetSpec(f"{platform.value}-1", platform, {"platform": platform.value}),),
        schedule=Schedule(),
        due_at=NOW + timedelta(hours=7 * i),
        draft=False,
        target_ids=(f"p{i:04d}-0",),
        created_at=created or NOW + timedelta(seconds=i),
        campaign_id="c1" if i % 5 == 0 else None,
    )


async def every_page(posts: MongoPosts, where: PostFilter, limit: int) -> list[str]:
    """Follow the cursor to the end, as a client of GET /v1/posts does."""
    seen: list[str] = []
    after: tuple[datetime, str] | None = None
    while True:
        page = await posts.list_posts(where, after, limit)
        seen.extend(p.id for p in page)
        if len(page) < limit:
            return seen
        after = (page[-1].created_at, page[-1].id)


def newest_first(chosen: list[Post]) -> list[str]:
    return [p.id for p in sorted(chosen, key=lambda p: (p.created_at, p.id), reverse=True)]


async def test_pages_list_what_one_sorted_query_would(mongo_db: AsyncDatabase[Document]) -> None:
    store = MongoPosts(mongo_db)
    await store.ensure_indexes()
    made = [post(i) for i in range(3 * PAGE_SIZE + 5)]
    others = [post(1000 + i, business="other") for i in range(7)]
    # Submissions race: each window of 10 is counted in some order of its own.
    rng = random.Random(7)
    for start in range(0, len(made), 10):
        window = made[start : start + 10]
        rng.shuffle(window)
        for p in window:
            await store.insert_post(p)
    for other in others:
        await store.insert_post(other)

    assert await every_page(store, PostFilter("b"), 20) == newest_first(made)
    assert await every_page(store, PostFilter("b"), 3) == newest_first(made)
    first = await store.list_posts(PostFilter("b"), None, 1)
    assert [p.id for p in first] == newest_first(made)[:1]

    facebook = PostFilter("b", platform=Platform.FACEBOOK.value)
    assert await every_page(store, facebook, 4) == newest_first(
        [p for p in made if p.platforms == [Platform.FACEBOOK.value]]
    )
    campaign = PostFilter("b", campaign_id="c1")
    assert await every_page(store, campaign, 2) == newest_first(
        [p for p in made if p.campaign_id == "c1"]
    )
    # A calendar's week (read day by day) and an open range (read by pages) agree with a filter.
    week = PostFilter("b", due_from=NOW + timedelta(days=3), due_to=NOW + timedelta(days=6))
    due_in_week = [p for p in made if week.due_from <= p.due_at < week.due_to]  # type: ignore[operator]
    assert due_in_week
    assert await every_page(store, week, 5) == newest_first(due_in_week)
    later = PostFilter("b", due_from=NOW + timedelta(days=6))
    assert await every_page(store, later, 4) == newest_first(
        [p for p in made if p.due_at >= NOW + timedelta(days=6)]
    )
    assert await every_page(store, PostFilter("nobody"), 10) == []


async def test_a_draft_scheduled_later_moves_to_its_new_day(
    mongo_db: AsyncDatabase[Document],
) -> None:
    store = MongoPosts(mongo_db)
    await store.ensure_indexes()
    draft = replace(post(1), draft=True, due_at=NOW)
    await store.insert_post(draft)
    due = NOW + timedelta(days=30)
    await store.schedule_post(draft.id, due)
    day = PostFilter("b", due_from=due - timedelta(hours=1), due_to=due + timedelta(hours=1))
    assert [p.id for p in await store.list_posts(day, None, 10)] == [draft.id]
    before = PostFilter("b", due_from=NOW - timedelta(hours=1), due_to=NOW + timedelta(hours=1))
    assert await store.list_posts(before, None, 10) == []


async def test_posts_stored_before_pages_are_listed_after_the_paged_ones(
    mongo_db: AsyncDatabase[Document],
) -> None:
    """A business with posts from before this change: its counter is marked legacy when it
    begins, and the old posts (no page, no due day) come last, by the whole-business query."""
    store = MongoPosts(mongo_db)
    await store.ensure_indexes()
    old = [post(i) for i in range(5)]
    for p in old:
        await store.insert_post(p)
    await mongo_db["posts"].update_many({}, {"$unset": {"page": "", "due_day": ""}})
    await mongo_db["post_pages"].delete_many({})
    new = [post(i) for i in range(5, 5 + PAGE_SIZE + 3)]
    for p in new:
        await store.insert_post(p)
    counter = await mongo_db["post_pages"].find_one({"_id": "b"})
    assert counter is not None
    assert counter["legacy"] is True
    assert await every_page(store, PostFilter("b"), 10) == newest_first(old + new)
    old_due = PostFilter("b", due_from=NOW, due_to=NOW + timedelta(days=1))
    assert [p.id for p in await store.list_posts(old_due, None, 10)] == newest_first(
        [p for p in old + new if p.due_at < NOW + timedelta(days=1)]
    )


async def test_racing_submissions_get_distinct_numbers(mongo_db: AsyncDatabase[Document]) -> None:
    """Submissions of one business that meet share one increment of its counter, and every post
    still gets its own number: pages hold at most PAGE_SIZE posts."""
    store = MongoPosts(mongo_db)
    await store.ensure_indexes()
    made = [post(i, created=NOW) for i in range(2 * PAGE_SIZE)]  # one instant: ids decide
    await asyncio.gather(*(store.insert_post(p) for p in made))
    counter = await mongo_db["post_pages"].find_one({"_id": "b"})
    assert counter is not None
    assert counter["n"] == len(made)
    assert "legacy" not in counter
    sizes: dict[int, int] = {}
    async for doc in mongo_db["posts"].find({"business_id": "b"}, {"page": 1}):
        sizes[doc["page"]] = sizes.get(doc["page"], 0) + 1
    assert sizes == {0: PAGE_SIZE, 1: PAGE_SIZE}
    assert await every_page(store, PostFilter("b"), 25) == newest_first(made)
