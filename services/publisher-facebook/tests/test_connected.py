"""publisher-facebook on real Kafka and FerretDB against the platform sandbox over HTTP: every
post kind published once, and the faults a Page call can meet (5xx, timeouts, expired tokens,
answers lost after the post went out) end in exactly one visible post each."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from herald.events import PostFailed, PostPublished, PostRequested, PostRetryScheduled
from herald.runtime.app import runtime_of
from herald.testkit import Collector, producer, running, send_event
from publisher_facebook.adapters.graph_pages import GraphPages
from publisher_facebook.handlers import FacebookPublisher
from publisher_facebook.insights import POST_METRICS, PageInsights
from publisher_testenv.facebook import Env, facebook_post

pytestmark = pytest.mark.connected


async def publish_all(env: Env, *requests: PostRequested, **overrides: Any) -> Collector:
    topics = [env.names.post_results]
    async with Collector(env.kafka_bootstrap, topics) as out, running(env.app(**overrides)):
        async with producer(env.kafka_bootstrap) as client:
            for request in requests:
                await send_event(client, env.requested, request, key="acct-1")
        targets = {r.target_id for r in requests}

        def done(c: Collector) -> bool:
            finished = {e.target_id for e in c.events(PostPublished)}
            finished |= {e.target_id for e in c.events(PostFailed)}
            return targets <= finished

        await out.wait_for(done, timeout_s=60)
    return out


async def visible_by_marker(env: Env) -> Counter[str]:
    entries = await env.sandbox.ledger(platform="facebook", account=env.sandbox.demo.page_id)
    return Counter(e["marker"] for e in entries if e["kind"] != "post_deleted")


async def test_every_kind_of_post_is_published_exactly_once(env: Env) -> None:
    sb = env.sandbox
    requests = [
        facebook_post("text", text="Open at eight"),
        facebook_post("link", text="Our menu", link="https://bakery.example/menu"),
        facebook_post("photo", text="Rye", media=[{"kind": "image", "url": sb.media("a.jpg")}]),
        facebook_post(
            "photos",
            text="Three loaves",
            media=[{"kind": "image", "url": sb.media(f"p{i}.jpg")} for i in range(3)],
        ),
        facebook_post("video", text="Tour", media=[{"kind": "video", "url": sb.media("v.mp4")}]),
    ]

    out = await publish_all(env, *requests)

    published = {e.target_id: e for e in out.events(PostPublished)}
    assert set(published) == {"text", "link", "photo", "photos", "video"}
    assert out.events(PostFailed) == []
    assert await visible_by_marker(env) == Counter(published.keys())  # one visible publish each
    for event in published.values():
        assert event.permalink is not None
        assert event.permalink.startswith("https://www.facebook.com/")
    entries = await sb.ledger(platform="facebook", kind="post_created")
    attached = next(e for e in entries if e["marker"] == "photos")["request"]["params"]
    assert len(attached["attached_media"]) > 10  # the JSON list of three media_fbid objects


async def test_5xx_and_timeouts_on_the_feed_are_retried_and_published_once(env: Env) -> None:
    await env.sandbox.fault(endpoint="feed", method="POST", error={"code": 2}, count=1)
    await env.sandbox.fault(endpoint="feed", method="POST", action="timeout", count=1)

    out = await publish_all(env, facebook_post("flaky"))

    [published] = out.events(PostPublished)
    assert published.attempt == 3
    assert [e.next_attempt for e in out.events(PostRetryScheduled)] == [2, 3]
    assert await visible_by_marker(env) == Counter({"flaky": 1})


async def test_an_expired_token_is_refreshed_once_then_the_post_goes_out(env: Env) -> None:
    await env.tokens.get("i1", "b1")
    await env.tokens.expire("i1")

    out = await publish_all(env, facebook_post("reauth"))

    [published] = out.events(PostPublished)
    assert published.attempt == 1
    assert env.tokens.refreshes == {"i1": 1}
    assert await visible_by_marker(env) == Counter({"reauth": 1})


@pytest.mark.parametrize("then", ["error", "drop"])
async def test_a_feed_post_accepted_then_failed_is_reconciled_not_repeated(
    env: Env, then: str
) -> None:
    await env.sandbox.fault(endpoint="feed", method="POST", action="accept_then_fail", then=then)

    out = await publish_all(env, facebook_post(f"accepted-{then}"))

    [published] = out.events(PostPublished)
    [entry] = await env.sandbox.ledger(marker=f"accepted-{then}")
    assert published.platform_post_id == entry["object_id"]
    assert out.events(PostRetryScheduled) == []  # found on the Page at once


async def test_a_photo_accepted_then_failed_is_reconciled_not_repeated(env: Env) -> None:
    await env.sandbox.fault(endpoint="photos", method="POST", action="accept_then_fail")
    photo = [{"kind": "image", "url": env.sandbox.media("a.jpg")}]

    out = await publish_all(env, facebook_post("accepted-photo", text="Rye", media=photo))

    [published] = out.events(PostPublished)
    [entry] = await env.sandbox.ledger(marker="accepted-photo")
    assert published.platform_post_id == entry["object_id"]


async def test_a_video_accepted_then_failed_is_found_on_the_pages_videos(env: Env) -> None:
    await env.sandbox.fault(endpoint="videos", method="POST", action="accept_then_fail")
    video = [{"kind": "video", "url": env.sandbox.media("v.mp4")}]

    out = await publish_all(env, facebook_post("accepted-video", text="Tour", media=video))

    [published] = out.events(PostPublished)
    [entry] = await env.sandbox.ledger(marker="accepted-video")
    assert published.platform_post_id.endswith(entry["object_id"])
    assert len(await env.sandbox.ledger(marker="accepted-video")) == 1


async def test_insights_are_collected_once_per_age_with_current_metric_names(env: Env) -> None:
    out = await publish_all(env, facebook_post("measured"))
    [published] = out.events(PostPublished)
    app_settings = env.settings()
    an_hour_later = published.published_at + timedelta(hours=1, seconds=5)
    store = await env.snapshots()
    async with running(env.app()) as app:
        adapter = runtime_of(app).adapter
        assert isinstance(adapter, FacebookPublisher)
        graph = adapter.pages  # the running app's own Graph adapter
        assert isinstance(graph, GraphPages)
        collector = env.collector(store, PageInsights(graph), [3600, 86_400], an_hour_later)
        first = await collector.run_once()
        again = await collector.run_once()

    assert app_settings.insights.enabled is False
    [snapshot] = first
    assert again == []
    assert snapshot.age_s == 3600
    assert set(snapshot.metrics) == set(POST_METRICS)
    assert isinstance(snapshot.metrics["post_media_view"], int)
    [stored] = await store.get("measured")
    assert (stored["state"], stored["platform_post_id"]) == (
        "collected",
        published.platform_post_id,
    )
