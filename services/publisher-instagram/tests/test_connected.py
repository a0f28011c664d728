"""publisher-instagram on real Kafka and FerretDB against the platform sandbox over HTTP: every
kind published once, processing followed through the delay tiers, the quota deferring instead
of failing, and lost `media_publish` answers reconciled from the container."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from herald.content import InstagramKind
from herald.events import PostFailed, PostPublished, PostRequested, PostRetryScheduled
from herald.runtime.app import runtime_of
from herald.testkit import Collector, producer, running, send_event
from publisher_instagram.adapters.graph_instagram import GraphInstagram
from publisher_instagram.handlers import InstagramPublisher
from publisher_instagram.insights import METRICS, MediaInsights
from publisher_testenv.instagram import Env, instagram_post

pytestmark = pytest.mark.connected


async def publish_all(
    env: Env, *requests: PostRequested, until: Any = None, **overrides: Any
) -> Collector:
    targets = {r.target_id for r in requests}

    def finished(c: Collector) -> bool:
        done = {e.target_id for e in c.events(PostPublished)}
        done |= {e.target_id for e in c.events(PostFailed)}
        return targets <= done

    topics = [env.names.post_results]
    async with Collector(env.kafka_bootstrap, topics) as out, running(env.app(**overrides)):
        async with producer(env.kafka_bootstrap) as client:
            for request in requests:
                await send_event(client, env.requested, request, key="acct-1")
        await out.wait_for(until or finished, timeout_s=60)
    return out


async def published_media(env: Env) -> list[dict[str, Any]]:
    return await env.sandbox.ledger(
        platform="instagram", kind="media_published", account=env.sandbox.demo.ig_user_id
    )


async def test_every_kind_is_published_exactly_once(env: Env) -> None:
    jpg, mp4 = env.sandbox.media("a.jpg"), env.sandbox.media("v.mp4")
    requests = [
        instagram_post("image", InstagramKind.FEED, jpg),
        instagram_post("reel", InstagramKind.REEL, mp4, share_to_feed=False),
        instagram_post("story", InstagramKind.STORY, jpg),
        instagram_post("carousel", InstagramKind.CAROUSEL, jpg, mp4, env.sandbox.media("b.jpg")),
    ]

    out = await publish_all(env, *requests)

    published = {e.target_id: e for e in out.events(PostPublished)}
    assert set(published) == {"image", "reel", "story", "carousel"}
    entries = await published_media(env)
    assert sorted(e["object_id"] for e in entries) == sorted(
        e.platform_post_id for e in published.values()
    )  # one visible publish per target, and it is the one each event names
    products = {e["object_id"]: e["request"]["media_product_type"] for e in entries}
    assert products[published["reel"].platform_post_id] == "REELS"
    assert products[published["story"].platform_post_id] == "STORY"
    assert "/reel/" in (published["reel"].permalink or "")
    for event in published.values():
        assert event.permalink is not None
        assert event.permalink.startswith("https://www.instagram.com/")
    # the video-bearing ones waited for processing through the tiers, as progress not retries
    assert out.events(PostRetryScheduled) == []


@pytest.mark.parametrize("env", [{"instagram": {"publish_quota_total": 1}}], indirect=True)
async def test_an_exhausted_quota_defers_the_post_to_the_end_of_the_window(env: Env) -> None:
    jpg = env.sandbox.media("a.jpg")
    first = instagram_post("first", InstagramKind.FEED, jpg)
    second = instagram_post("second", InstagramKind.FEED, jpg)

    def deferred(c: Collector) -> bool:
        return bool(c.events(PostPublished)) and bool(c.events(PostRetryScheduled))

    out = await publish_all(env, first, second, until=deferred)

    [published] = out.events(PostPublished)
    [waiting] = out.events(PostRetryScheduled)
    assert (published.target_id, waiting.target_id) == ("first", "second")
    assert waiting.reason.value == "wait"
    assert waiting.error is not None
    assert (waiting.error.category.value, waiting.error.subcode) == ("throttled", "2207042")
    until = waiting.next_attempt_at - datetime.now(UTC)
    assert timedelta(hours=23, minutes=50) < until <= timedelta(hours=24, minutes=6)
    assert out.events(PostFailed) == []
    assert len(await published_media(env)) == 1


@pytest.mark.parametrize("then", ["error", "drop"])
async def test_media_publish_accepted_then_failed_is_reconciled_from_the_container(
    env: Env, then: str
) -> None:
    await env.sandbox.fault(endpoint="media_publish", action="accept_then_fail", then=then)

    out = await publish_all(
        env, instagram_post(then, InstagramKind.FEED, env.sandbox.media("a.jpg"))
    )

    [published] = out.events(PostPublished)
    [entry] = await published_media(env)
    assert published.platform_post_id == entry["object_id"]
    assert published.permalink is not None
    assert out.events(PostRetryScheduled) == []


async def test_5xx_and_timeouts_on_media_publish_are_retried_and_published_once(env: Env) -> None:
    await env.sandbox.fault(endpoint="media_publish", error={"code": 2}, count=1)
    await env.sandbox.fault(endpoint="media_publish", action="timeout", count=1)

    out = await publish_all(
        env, instagram_post("flaky", InstagramKind.FEED, env.sandbox.media("a.jpg"))
    )

    [published] = out.events(PostPublished)
    assert published.attempt == 3
    [entry] = await published_media(env)
    assert entry["object_id"] == published.platform_post_id


async def test_an_expired_token_is_refreshed_once_then_the_post_goes_out(env: Env) -> None:
    await env.tokens.get("i1", "b1")
    await env.tokens.expire("i1")

    out = await publish_all(
        env, instagram_post("reauth", InstagramKind.FEED, env.sandbox.media("a.jpg"))
    )

    [published] = out.events(PostPublished)
    assert env.tokens.refreshes == {"i1": 1}
    assert len(await published_media(env)) == 1
    assert published.attempt == 1


async def test_insights_are_collected_with_the_metrics_of_the_product_type(env: Env) -> None:
    out = await publish_all(
        env, instagram_post("measured", InstagramKind.FEED, env.sandbox.media("a.jpg"))
    )
    [published] = out.events(PostPublished)
    store = await env.snapshots()
    async with running(env.app()) as app:
        adapter = runtime_of(app).adapter
        assert isinstance(adapter, InstagramPublisher)
        api = adapter.api  # the running app's own Graph adapter
        assert isinstance(api, GraphInstagram)
        at = published.published_at + timedelta(hours=1, seconds=5)
        [snapshot] = await env.collector(store, MediaInsights(api), [3600], at).run_once()

    assert set(snapshot.metrics) == set(METRICS["FEED"])
    [stored] = await store.get("measured")
    assert stored["state"] == "collected"
    assert stored["metrics"] == snapshot.metrics
