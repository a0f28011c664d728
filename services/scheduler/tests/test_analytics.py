"""The analytics read model end to end inside the scheduler: `post.insights` snapshots stored
once per (target, age), whatever repeats or cannot be read, and served per post with the common
names, the platform's names and the reasons for what is absent; another business gets 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from herald.errors import ErrorCategory
from herald.events import (
    FailureDetail,
    PostInsightsCollected,
    PostInsightsUnavailable,
    PostRequested,
)
from herald.testkit import producer, running, send_event
from herald.topics import Platform
from scheduler.testing import (
    KEY_B,
    FakePublisher,
    SchedulerEnv,
    auth,
    client,
    eventually,
    post_status,
)

pytestmark = pytest.mark.connected

STORY = {"kind": "image", "url": "https://example.com/s.jpg", "mime_type": "image/jpeg"}


def snapshot(request: PostRequested, age_s: int, metrics: dict[str, Any]) -> PostInsightsCollected:
    published = datetime.now(UTC) - timedelta(seconds=age_s)
    return PostInsightsCollected(
        **request.model_dump(
            include={"post_id", "target_id", "business_id", "integration_id", "platform"}
        ),
        platform_post_id=f"pp_{request.target_id}",
        published_at=published,
        age_s=age_s,
        collected_at=published + timedelta(seconds=age_s + 30),
        metrics=metrics,
    )


def unavailable(request: PostRequested, age_s: int) -> PostInsightsUnavailable:
    refusal = FailureDetail(
        category=ErrorCategory.PERMANENT,
        code="10",
        message="(#10) Not enough viewers for the media to show insights",
    )
    return PostInsightsUnavailable(
        **request.model_dump(
            include={"post_id", "target_id", "business_id", "integration_id", "platform"}
        ),
        age_s=age_s,
        failed_at=datetime.now(UTC),
        error=refusal,
    )


FB_1H = {
    "post_media_view": 120.0,
    "post_total_media_view_unique": 80.0,
    "post_reactions_by_type_total": {"like": 10.0, "love": 2.0},
    "post_clicks": 7.0,
    "post_activity_by_action_type": {"share": 3.0, "like": 12.0},
}


async def test_snapshots_are_stored_once_and_read_in_one_vocabulary(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    env.integrations.add("ig-1", platform=Platform.INSTAGRAM)
    app = env.app()
    body = {
        "content": {"text": "Fresh rye", "media": [STORY]},
        "targets": [
            {"integration_id": "fb-1", "platform": "facebook"},
            {
                "integration_id": "ig-1",
                "platform": "instagram",
                "options": {"platform": "instagram", "kind": "story"},
            },
        ],
    }
    async with (
        FakePublisher(env.kafka_bootstrap, env.names) as publisher,
        running(app),
        producer(env.kafka_bootstrap) as out,
    ):
        http = client(app)
        created = await http.post("/v1/posts", json=body, headers=auth())
        assert created.status_code == 201, created.text
        post_id = created.json()["post_id"]
        await eventually(lambda: post_status(http, post_id, "published"))
        fb, ig = sorted(publisher.requests, key=lambda r: r.platform.value)
        topic = env.names.post_insights
        await out.send_and_wait(topic, b"not an event", key=post_id.encode())
        for event in (
            snapshot(fb, 3600, FB_1H),
            snapshot(fb, 3600, {"post_media_view": 999.0}),  # the same snapshot again: ignored
            snapshot(fb, 86400, {**FB_1H, "post_media_view": 400.0}),
            snapshot(ig, 3600, {"views": 30.0, "reach": 25.0, "shares": 1.0, "replies": 2.0}),
            unavailable(ig, 86400),
        ):
            await send_event(out, topic, event, key=post_id)

        async def read() -> dict[str, Any] | None:
            answer = await http.get(f"/v1/posts/{post_id}/analytics", headers=auth())
            assert answer.status_code == 200, answer.text
            found: dict[str, Any] = answer.json()
            histories = [len(t["history"]) for t in found["targets"]]
            return found if histories == [2, 2] else None

        found = await eventually(read)
        other = await http.get(f"/v1/posts/{post_id}/analytics", headers=auth(KEY_B))
        table = await http.get(f"/v1/posts/{post_id}/analytics", headers=auth(Accept="text/csv"))
        summary = (await http.get("/v1/analytics/summary", headers=auth())).json()
        reach = await http.get("/v1/analytics/summary?metric=reach&top=1", headers=auth())
        theirs = await http.get("/v1/analytics/summary?integration_id=fb-1", headers=auth(KEY_B))
        backwards = await http.get(
            "/v1/analytics/summary?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            headers=auth(),
        )
        kept = await eventually(
            lambda: env.db["rejections"].find_one({"_id": {"$regex": f"^{topic}:"}})
        )

    assert other.status_code == 404
    assert kept["violations"][0]["path"] == "(event)"
    assert theirs.status_code == 404
    assert backwards.status_code == 422
    _check_post(found, fb)
    _check_csv(table.headers["content-type"], table.text)
    _check_summary(summary, reach.json(), fb, ig)


def _check_post(found: dict[str, Any], fb: PostRequested) -> None:
    facebook, story = found["targets"]
    assert [s["age_s"] for s in facebook["history"]] == [3600, 86400]
    first = facebook["history"][0]
    assert first["metrics"]["views"] == {
        "value": 120.0,
        "platform_metric": "post_media_view",
        "by_type": None,
    }
    assert first["metrics"]["reactions"]["by_type"] == {"like": 10.0, "love": 2.0}
    assert first["metrics"]["reactions"]["value"] == 12.0
    assert first["metrics"]["shares"]["platform_metric"] == "post_activity_by_action_type.share"
    assert first["metrics"]["comments"]["value"] == 0.0  # the breakdown lists no comment
    assert "saves" not in first["metrics"]
    assert "no saves metric" in first["absent"]["saves"]
    assert first["platform_metrics"] == FB_1H
    assert facebook["latest"]["metrics"]["views"]["value"] == 400.0
    assert facebook["platform_post_id"] == f"fb_{fb.target_id}"
    assert story["kind"] == "story"
    hour, day = story["history"]
    assert hour["metrics"]["replies"]["platform_metric"] == "replies"
    assert hour["absent"]["reactions"] == "Instagram gives stories no likes metric"
    assert "answered no value for total_interactions" in hour["absent"]["interactions"]
    assert story["latest"] == day  # the platform would not give it: every figure absent, why
    assert (day["age_s"], day["metrics"], day["unavailable"]["code"]) == (86400, {}, "10")
    assert day["absent"]["views"] == (
        "instagram gave no insights at this age: "
        "(#10) Not enough viewers for the media to show insights (error 10)"
    )


def _check_csv(content_type: str, text: str) -> None:
    assert content_type.startswith("text/csv")
    rows = text.splitlines()
    assert rows[0].startswith("post_id,target_id,platform,integration_id,platform_post_id,age_s")
    assert any(",3600," in r and ",views,120,post_media_view," in r for r in rows)
    assert any(",saves,,," in r and "no saves metric" in r for r in rows)


def _check_summary(
    summary: dict[str, Any], reach: dict[str, Any], fb: PostRequested, ig: PostRequested
) -> None:
    by_platform = {p["platform"]: p for p in summary["platforms"]}
    assert summary["targets"] == 2
    assert by_platform["facebook"]["totals"]["views"] == 400.0  # the latest (24 h) snapshot
    assert by_platform["facebook"]["engagement_rate"] == (12 + 0 + 3) / 80
    assert by_platform["instagram"]["engagement_rate"] == 1 / 25  # a story: shares only
    assert "reactions" not in by_platform["instagram"]["totals"]  # absent, not 0
    assert [t["target_id"] for t in summary["top_posts"]] == [fb.target_id, ig.target_id]
    assert reach["top_posts"][0]["platform_metric"] == "post_total_media_view_unique"
