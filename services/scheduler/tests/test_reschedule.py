"""`POST /v1/posts/{id}/reschedule` on real FerretDB and Kafka: the post, its targets, its queue
rows and its listing day move; a time a new post could not have is refused at its field; only a
post whose every target still waits moves, all of them or none; and a moved post is dispatched
at its new time, never at its old one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from herald.testkit import running
from scheduler.app import create_app
from scheduler.testing import (
    KEY_A,
    KEY_B,
    FakePublisher,
    SchedulerEnv,
    auth,
    client,
    eventually,
    post_body,
    post_status,
)

pytestmark = pytest.mark.connected

LATER = {"publish_at": "2031-03-30T09:00:00", "timezone": "Europe/Lisbon"}
VIEWER = f"hk_00000000000000cc_{'c' * 43}"


async def create(http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/v1/posts", json=body, headers=auth())
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def move(
    http: httpx.AsyncClient, post_id: str, body: dict[str, Any], key: str = KEY_A
) -> httpx.Response:
    return await http.post(f"/v1/posts/{post_id}/reschedule", json=body, headers=auth(key))


async def day_of(http: httpx.AsyncClient, day: str) -> list[str]:
    start = datetime.fromisoformat(f"{day}T00:00:00+00:00")
    params = {"due_from": start.isoformat(), "due_to": (start + timedelta(days=1)).isoformat()}
    page = (await http.get("/v1/posts", params=params, headers=auth())).json()
    return [p["post_id"] for p in page["items"]]


async def test_a_scheduled_post_moves_with_its_queue_rows_and_listing_day(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    env.integrations.add("fb-2")
    app = env.app()
    async with running(app):
        http = client(app)
        post = await create(http, post_body("fb-1", "fb-2", schedule=LATER))
        post_id = post["post_id"]
        before = await day_of(http, "2031-03-30")
        moved = await move(
            http, post_id, {"publish_at": "2031-04-02T10:30:00", "timezone": "Europe/Lisbon"}
        )
        after_old_day = await day_of(http, "2031-03-30")
        after_new_day = await day_of(http, "2031-04-02")
        history = (await http.get(f"/v1/posts/{post_id}/history", headers=auth())).json()
        rows = await env.db["pending"].find({"post_id": post_id}).to_list()
    assert moved.status_code == 200, moved.text
    answer = moved.json()
    assert sorted(answer["changed"]) == [f"{post_id}-0", f"{post_id}-1"]
    assert answer["post"]["status"] == "scheduled"
    assert answer["post"]["due_at"].startswith("2031-04-02T09:30:00")  # Lisbon is UTC+1 then
    assert answer["post"]["schedule"]["timezone"] == "Europe/Lisbon"
    assert answer["post"]["schedule"]["publish_at"].startswith("2031-04-02T09:30:00")
    assert {t["due_at"][:19] for t in answer["post"]["targets"]} == {"2031-04-02T09:30:00"}
    # the due index the dispatcher reads holds only the new epoch, at the new time
    assert sorted(r["_id"] for r in rows) == [f"{post_id}-0:2", f"{post_id}-1:2"]
    assert {r["due_at"].replace(tzinfo=UTC) for r in rows} == {
        datetime(2031, 4, 2, 9, 30, tzinfo=UTC)
    }
    # the calendar's day-by-day listing follows the move
    assert post_id in before
    assert post_id not in after_old_day
    assert post_id in after_new_day
    moves = [e for e in history["entries"] if e["kind"] == "post.rescheduled"]
    assert len(moves) == 2
    assert moves[0]["detail"]["epoch"] == 2


async def test_a_time_a_new_post_could_not_have_is_refused_at_its_field(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    env.keys.add(VIEWER, "biz-a", frozenset({"posts:read"}))
    app = env.app()
    async with running(app):
        http = client(app)
        post_id = (await create(http, post_body("fb-1", schedule=LATER)))["post_id"]
        past = await move(http, post_id, {"publish_at": "2020-01-01T09:00:00Z"})
        no_zone = await move(http, post_id, {"publish_at": "2031-04-02T10:30:00"})
        bad_zone = await move(
            http, post_id, {"publish_at": "2031-04-02T10:30:00", "timezone": "Europe"}
        )
        missing = await move(http, post_id, {})
        viewer = await move(http, post_id, {"publish_at": "2031-04-02T10:30:00Z"}, VIEWER)
        other_business = await move(http, post_id, {"publish_at": "2031-04-02T10:30:00Z"}, KEY_B)
        unchanged = (await http.get(f"/v1/posts/{post_id}", headers=auth())).json()
    assert past.status_code == 422, past.text
    assert [(v["path"], v["code"]) for v in past.json()["violations"]] == [
        ("publish_at", "in_the_past")
    ]
    assert no_zone.status_code == 422
    assert [v["path"] for v in no_zone.json()["violations"]] == ["timezone"]
    assert bad_zone.status_code == 422
    assert [v["path"] for v in bad_zone.json()["violations"]] == ["timezone"]
    assert missing.status_code == 422
    assert "publish_at" in missing.text
    assert viewer.status_code == 403
    assert other_business.status_code == 404
    assert unchanged["due_at"].startswith("2031-03-30T08:00:00")


async def test_only_a_post_whose_every_target_waits_moves(scheduler_env: SchedulerEnv) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    app = env.app()
    new_time = {"publish_at": "2031-04-02T10:30:00Z"}
    async with running(app):
        http = client(app)
        draft = await create(http, post_body("fb-1", draft=True, schedule=LATER))
        as_draft = await move(http, draft["post_id"], new_time)
        cancelled = await create(http, post_body("fb-1", schedule=LATER))
        await http.post(f"/v1/posts/{cancelled['post_id']}/cancel", headers=auth())
        as_cancelled = await move(http, cancelled["post_id"], new_time)
        made = await http.post("/v1/campaigns", json={"name": "Spring"}, headers=auth())
        campaign_id = made.json()["campaign_id"]
        in_campaign = await create(http, post_body("fb-1", schedule=LATER, campaign_id=campaign_id))
        ended = await http.post(
            f"/v1/campaigns/{campaign_id}/end", params={"keep_posts": "true"}, headers=auth()
        )
        after_end = await move(http, in_campaign["post_id"], new_time)
    assert as_draft.status_code == 409
    assert "draft" in as_draft.json()["message"]
    assert as_cancelled.status_code == 409
    assert "is cancelled" in as_cancelled.json()["message"]
    assert ended.status_code == 200, ended.text
    assert after_end.status_code == 409
    assert "has ended" in after_end.json()["message"]


async def test_a_post_a_dispatcher_is_taking_does_not_move_at_all(
    scheduler_env: SchedulerEnv,
) -> None:
    """The second target's claim is held by a dispatcher (it is due within seconds): the move
    is refused, and the cancel claim taken on the first target is let go again, so the post
    goes out whole at its time."""
    env = scheduler_env
    env.integrations.add("fb-1")
    env.integrations.add("fb-2")
    app = env.app()
    async with running(app):
        http = client(app)
        post_id = (await create(http, post_body("fb-1", "fb-2", schedule=LATER)))["post_id"]
        await env.db["claims"].insert_one(
            {
                "_id": f"{post_id}-1:1:0",
                "target_id": f"{post_id}-1",
                "epoch": 1,
                "generation": 0,
                "owner": "another-replica",
                "kind": "dispatch",
                "claimed_at": datetime.now(UTC),
            }
        )
        refused = await move(http, post_id, {"publish_at": "2031-04-02T10:30:00Z"})
        claims = await env.db["claims"].find({"target_id": f"{post_id}-0"}).to_list()
        rows = await env.db["pending"].find({"post_id": post_id}).to_list()
        unchanged = (await http.get(f"/v1/posts/{post_id}", headers=auth())).json()
    assert refused.status_code == 409
    assert "dispatcher is sending it" in refused.json()["message"]
    assert claims == []
    assert sorted(r["_id"] for r in rows) == [f"{post_id}-0:1", f"{post_id}-1:1"]
    assert unchanged["due_at"].startswith("2031-03-30T08:00:00")


async def test_a_moved_post_is_published_at_its_new_time_and_not_its_old_one(
    scheduler_env: SchedulerEnv,
) -> None:
    """The scheduler's clock is moved by hand (`create_app(clock=...)`), starting two hours
    behind: a post due at +30 min is moved to +60 min; a post left at +30 min marks when the
    dispatcher has passed the old time, and the moved one has not gone out then; it goes out
    once the clock passes the new time, once, as its second epoch."""
    env = scheduler_env
    env.integrations.add("fb-1")
    shift = [timedelta(hours=-2)]

    def clock() -> datetime:
        return datetime.now(UTC) + shift[0]

    start = clock()
    old_time = {"publish_at": (start + timedelta(minutes=30)).isoformat()}
    new_at = start + timedelta(minutes=60)
    app = create_clocked(env, clock)
    async with running(app), FakePublisher(env.kafka_bootstrap, env.names) as publisher:
        http = client(app)
        moved_id = (await create(http, post_body("fb-1", schedule=old_time)))["post_id"]
        marker_id = (await create(http, post_body("fb-1", text="marker", schedule=old_time)))[
            "post_id"
        ]
        answer = await move(http, moved_id, {"publish_at": new_at.isoformat()})
        shift[0] = timedelta(minutes=-75)  # past the old time, before the new one
        await eventually(lambda: post_status(http, marker_id, "published"))
        between = [r.post_id for r in publisher.requests]
        still = (await http.get(f"/v1/posts/{moved_id}", headers=auth())).json()
        shift[0] = timedelta(0)  # past the new time
        done = await eventually(lambda: post_status(http, moved_id, "published"))
    assert answer.status_code == 200, answer.text
    assert marker_id in between
    assert moved_id not in between
    assert still["status"] == "scheduled"
    sent = [r for r in publisher.requests if r.post_id == moved_id]
    assert len(sent) == 1
    assert abs(sent[0].due_at - new_at) < timedelta(milliseconds=1)  # stored to the ms
    assert done["targets"][0]["state"] == "published"


def create_clocked(env: SchedulerEnv, clock: Callable[[], datetime]) -> FastAPI:
    """The environment's app with a clock of the test's own."""
    return create_app(env.settings(), api_keys=env.keys, integrations=env.integrations, clock=clock)
