"""publisher-tiktok's video analytics on real Kafka and FerretDB against the platform sandbox:
a refresh a business asked for (`herald.post.insights_requested.v1` on `post.insights`) is
answered with the Display API's `video/query` counters of the published video, which grow with
the sandbox's clock (followed by the insights job, as in a test system); a video TikTok does not
list is told unavailable with the reason, never as zeros; requests for another platform are
left alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from herald.events import (
    PostInsightsCollected,
    PostInsightsRequested,
    PostInsightsUnavailable,
    PostPublished,
)
from herald.insights import InsightsSettings
from herald.testkit import Collector, producer, send_event
from herald.testkit.servers import serving_in_loop
from herald.topics import Platform
from publisher_testenv.tiktok import Env, tiktok_post

pytestmark = pytest.mark.connected
MB = 1_000_000
DAY = 86_400
COUNTERS = {"view_count", "like_count", "comment_count", "share_count"}


def asked(target_id: str, platform: Platform = Platform.TIKTOK) -> PostInsightsRequested:
    return PostInsightsRequested(
        post_id=f"post-{target_id}",
        target_id=target_id,
        business_id="b1",
        integration_id="i1",
        platform=platform,
        requested_at=datetime.now(UTC),
    )


def told(target_id: str, count: int) -> Any:
    def check(c: Collector) -> bool:
        events = [*c.events(PostInsightsCollected), *c.events(PostInsightsUnavailable)]
        return len([e for e in events if e.target_id == target_id]) >= count

    return check


async def test_a_refresh_reads_video_query_counts_that_grow_with_the_sandbox_clock(
    env: Env,
) -> None:
    s = env.sandbox
    request = tiktok_post("measured", s.media("small.mp4", bytes=2 * MB))
    insights = InsightsSettings(
        ages_s=[3_600], interval_s=3_600, clock_url=f"{s.url}/_sandbox/clock"
    )
    await env.db["ledger"].insert_one(  # published, but a video TikTok does not list
        {
            "_id": "unlisted",
            "post_id": "post-unlisted",
            "business_id": "b1",
            "integration_id": "i1",
            "platform": "tiktok",
            "state": "published",
            "result": {
                "platform_post_id": "7000000000000000001",
                "published_at": datetime.now(UTC),
            },
        }
    )
    topics = [env.names.post_results, env.names.post_insights]
    async with (
        Collector(env.kafka_bootstrap, topics) as out,
        serving_in_loop(env.app(insights=insights), env.port),
        producer(env.kafka_bootstrap) as client,
    ):
        await send_event(client, env.requested, request, key=request.integration_id)
        await out.wait_for(
            lambda c: any(e.platform_post_id for e in c.events(PostPublished)), timeout_s=90
        )
        insights_topic = env.names.post_insights
        for event in (asked("measured", Platform.FACEBOOK), asked("unlisted"), asked("measured")):
            await send_event(client, insights_topic, event, key=event.post_id)
        await out.wait_for(told("measured", 1), timeout_s=60)
        await s.admin("POST", "/clock/advance", json={"seconds": DAY})
        await send_event(client, insights_topic, asked("measured"), key="post-measured")
        await out.wait_for(told("measured", 2), timeout_s=60)
        await out.wait_for(told("unlisted", 1), timeout_s=60)

    [public_id] = {e.platform_post_id for e in out.events(PostPublished) if e.platform_post_id}
    first, second = [e for e in out.events(PostInsightsCollected) if e.target_id == "measured"]
    assert set(first.metrics) == set(second.metrics) == COUNTERS
    assert first.platform_post_id == second.platform_post_id == public_id
    assert second.age_s - first.age_s >= DAY  # the age on the followed sandbox clock
    for name in COUNTERS:
        assert second.metrics[name] > first.metrics[name], name
    [unlisted] = out.events(PostInsightsUnavailable)
    assert unlisted.target_id == "unlisted"
    assert unlisted.error.code == "video_not_listed"
    assert unlisted.error.message == "TikTok does not list the post yet"
    # the Facebook request was not TikTok's: two snapshots of `measured`, both asked as TikTok
    assert len(out.events(PostInsightsCollected)) == 2
