"""`POST /v1/posts/{post_id}/analytics/refresh` inside the scheduler (real Kafka and FerretDB,
a fake publisher): one request per published target on `post.insights`, which the scheduler's
own insights consumer leaves alone; a second refresh within the interval is a 429 with
`Retry-After`; another business's post is a 404 and a post with nothing published a 409. The
rate limit's arithmetic is unit-tested beside it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from herald.events import PostInsightsRequested
from herald.testkit import Collector, producer, running
from herald.topics import Platform
from scheduler.analytics.refresh import refreshable, retry_after_s
from scheduler.models import Role, Target, TargetState
from scheduler.testing import (
    KEY_B,
    FakePublisher,
    SchedulerEnv,
    auth,
    client,
    eventually,
    post_status,
)

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("last_s_ago", "wanted"),
    [
        (None, None),  # never refreshed
        (0.0, 300),
        (0.4, 300),  # rounded up: never a moment too early
        (299.5, 1),
        (300.0, None),
        (86_400.0, None),
    ],
)
def test_retry_after_counts_the_seconds_left_of_the_interval(
    last_s_ago: float | None, wanted: int | None
) -> None:
    last = None if last_s_ago is None else T0 - timedelta(seconds=last_s_ago)
    assert retry_after_s(last, T0, 300.0) == wanted


@pytest.mark.unit
def test_only_published_targets_on_platforms_with_insights_are_refreshed() -> None:
    def target(index: int, platform: Platform, state: TargetState, role: Role) -> Target:
        return Target(
            id=f"p-{index}",
            post_id="p",
            business_id="b",
            index=index,
            integration_id=f"i-{index}",
            platform=platform,
            due_at=T0,
            epoch=1,
            epoch_started_at=T0,
            state=state,
            updated_at=T0,
            role=role,
        )

    published, failed = TargetState.PUBLISHED, TargetState.FAILED
    targets = [
        target(3, Platform.TIKTOK, published, Role.TARGET),
        target(0, Platform.FACEBOOK, published, Role.TARGET),
        target(1, Platform.INSTAGRAM, failed, Role.TARGET),
        target(2, Platform.WHATSAPP, published, Role.TARGET),
        target(4, Platform.WHATSAPP, published, Role.BROADCAST),
    ]
    assert [t.id for t in refreshable(targets)] == ["p-0", "p-3"]


@pytest.mark.connected
async def test_a_refresh_asks_the_publishers_once_per_interval(scheduler_env: SchedulerEnv) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    env.integrations.add("ig-1", platform=Platform.INSTAGRAM)
    app = env.app()
    target = {"integration_id": "fb-1", "platform": "facebook"}
    now = {"content": {"text": "Fresh rye"}, "targets": [target]}
    later = {**now, "schedule": {"publish_at": "2099-01-01T09:00:00Z"}}
    async with (
        FakePublisher(env.kafka_bootstrap, env.names),
        running(app),
        Collector(env.kafka_bootstrap, [env.names.post_insights]) as insights,
        producer(env.kafka_bootstrap) as out,
    ):
        http = client(app)
        created = await http.post("/v1/posts", json=now, headers=auth())
        waiting = await http.post("/v1/posts", json=later, headers=auth())
        assert (created.status_code, waiting.status_code) == (201, 201), waiting.text
        post_id, waiting_id = created.json()["post_id"], waiting.json()["post_id"]
        await eventually(lambda: post_status(http, post_id, "published"))
        path = f"/v1/posts/{post_id}/analytics/refresh"

        theirs = await http.post(path, headers=auth(KEY_B))
        nothing = await http.post(f"/v1/posts/{waiting_id}/analytics/refresh", headers=auth())
        first = await http.post(path, headers=auth())
        second = await http.post(path, headers=auth())
        await insights.wait_for(lambda c: bool(c.events(PostInsightsRequested)), timeout_s=30)
        # Behind the request on its partition: once this is kept as unreadable, the scheduler's
        # insights consumer has passed the request, which it must not keep.
        topic = env.names.post_insights
        await out.send_and_wait(topic, b"not an event", key=post_id.encode())
        kept = await eventually(
            lambda: env.db["rejections"].find({"_id": {"$regex": f"^{topic}:"}}).to_list()
        )

    assert theirs.status_code == 404
    assert nothing.status_code == 409, nothing.text
    assert nothing.json()["error"] == "nothing_to_refresh"
    assert first.status_code == 202, first.text
    body = first.json()
    [asked] = body["targets"]
    assert (asked["target_id"], asked["platform"]) == (f"{post_id}-0", "facebook")
    assert body["next_refresh_at"] > body["requested_at"]
    assert second.status_code == 429, second.text
    assert 1 <= int(second.headers["Retry-After"]) <= 300
    assert second.json()["error"] == "refreshed_recently"
    [request] = insights.events(PostInsightsRequested)  # one: the 429 asked nothing
    assert (request.post_id, request.target_id, request.platform) == (
        post_id,
        f"{post_id}-0",
        Platform.FACEBOOK,
    )
    assert request.business_id == "biz-a"
    # the junk only (no CloudEvents headers): the request was not kept
    assert [r["violations"][0]["code"] for r in kept] == ["bad_headers"]
