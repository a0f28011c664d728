"""The lifecycle on real Kafka and FerretDB: API → dispatch → a publisher's results → status and
history; `post.submitted` in structured mode; rejections kept and answered."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from herald.events import PostRejected, PostRequested
from herald.testkit import Collector, producer, running
from scheduler.testing import (
    FakePublisher,
    SchedulerEnv,
    auth,
    client,
    eventually,
    post_body,
    post_status,
    published,
    signed,
)

pytestmark = pytest.mark.connected


async def test_api_post_is_dispatched_published_and_has_history(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    env.integrations.add("fb-2")
    app = env.app()
    async with FakePublisher(env.kafka_bootstrap, env.names) as publisher, running(app):
        http = client(app)
        created = await http.post(
            "/v1/posts",
            json=post_body("fb-1", "fb-2", text="launch day"),
            headers=auth(**{"Idempotency-Key": "launch-1"}),
        )
        assert created.status_code == 201, created.text
        post_id = created.json()["post_id"]
        done = await eventually(lambda: post_status(http, post_id, "published"))

        async def full_history() -> dict[str, Any] | None:
            # dispatch facts are recorded in batches just after the broker's acknowledgement
            body = (await http.get(f"/v1/posts/{post_id}/history", headers=auth())).json()
            kinds = [e["kind"] for e in body["entries"]]
            return body if kinds.count("post.dispatched") == 2 else None

        history = await eventually(full_history)

    assert {t["state"] for t in done["targets"]} == {"published"}
    assert {t["platform_post_id"] for t in done["targets"]} == {
        f"fb_{post_id}-0",
        f"fb_{post_id}-1",
    }
    assert sorted(r.target_id for r in publisher.requests) == [f"{post_id}-0", f"{post_id}-1"]
    assert {r.text for r in (q.content for q in publisher.requests)} == {"launch day"}
    kinds = [e["kind"] for e in history["entries"]]
    assert kinds[0] == "post.scheduled"
    assert kinds.count("post.dispatched") == 2
    assert kinds.count("post.published") == 2


async def test_structured_post_submitted_is_scheduled_like_an_api_post(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    app = env.app()
    event = {
        "specversion": "1.0",
        "id": "evt-structured-1",
        "source": "crm/campaigns",
        "type": "herald.post.submitted.v1",
        "datacontenttype": "application/json",
        "data": {
            "business_id": "biz-a",
            "idempotency_key": "crm-42",
            "content": {"text": "from the CRM"},
            "targets": [{"integration_id": "fb-1", "platform": "facebook"}],
            "unknown_field": "ignored by a tolerant reader",
        },
    }
    value = json.dumps(event).encode()
    headers = signed(value, [("content-type", b"application/cloudevents+json")])
    async with FakePublisher(env.kafka_bootstrap, env.names) as publisher, running(app):
        async with producer(env.kafka_bootstrap) as out:
            for _ in range(2):  # delivered twice: still one post
                await out.send_and_wait(
                    env.names.post_submitted, value, key=b"biz-a", headers=headers
                )
        http = client(app)

        async def listed() -> list[dict[str, Any]]:
            page = (await http.get("/v1/posts?status=published", headers=auth())).json()
            return list(page["items"])

        items = await eventually(listed)
        await asyncio.sleep(1.0)  # let the second delivery be handled too
        everything = (await http.get("/v1/posts", headers=auth())).json()["items"]

    assert len(everything) == 1
    assert items[0]["source"] == "event"
    assert items[0]["idempotency_key"] == "crm-42"
    assert len(publisher.requests) == 1
    assert publisher.requests[0].content.text == "from the CRM"


async def test_invalid_submissions_are_rejected_with_every_reason_and_kept(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    app = env.app()
    broken = {
        "business_id": "biz-a",
        "idempotency_key": "bad-1",
        "content": {"text": "x" * 70_000},
        "targets": [
            {"integration_id": "fb-1", "platform": "facebook"},
            {"integration_id": "nope", "platform": "facebook"},
        ],
    }
    async with Collector(env.kafka_bootstrap, [env.names.post_results]) as results, running(app):
        async with producer(env.kafka_bootstrap) as out:
            headers = [
                ("ce_specversion", b"1.0"),
                ("ce_id", b"evt-bad-1"),
                ("ce_source", b"crm"),
                ("ce_type", b"herald.post.submitted.v1"),
                ("content-type", b"application/json"),
            ]
            value = json.dumps(broken).encode()
            await out.send_and_wait(env.names.post_submitted, value, headers=signed(value, headers))
            await out.send_and_wait(env.names.post_submitted, b"\xff not json", headers=headers)
        await results.wait_for(lambda c: len(c.events(PostRejected)) == 2)
        kept = await env.db["rejections"].find().to_list()

    rejections = results.events(PostRejected)
    paths = {v.path for v in rejections[0].violations}
    assert {"targets[0].content.text", "targets[1].integration_id"} <= paths
    assert rejections[0].idempotency_key == "bad-1"
    assert rejections[0].source_event_id == "evt-bad-1"
    assert rejections[1].violations[0].code == "not_json"
    assert len(kept) == 2
    assert {k["source_event_id"] for k in kept} == {"evt-bad-1"}
    assert all(k["body_base64"] for k in kept)
    assert not [r for r in results.received if isinstance(r.event, PostRequested)]
    assert await env.db["posts"].count_documents({}) == 0


async def test_late_publication_data_is_recorded_without_changing_state(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    app = env.app()

    def answer(request: PostRequested) -> Any:
        return published(request, platform_post_id=None)

    async with FakePublisher(env.kafka_bootstrap, env.names, answer) as publisher, running(app):
        http = client(app)
        created = await http.post("/v1/posts", json=post_body("fb-1"), headers=auth())
        post_id = created.json()["post_id"]
        first = await eventually(lambda: post_status(http, post_id, "published"))
        later = published(publisher.requests[0], permalink="https://fb.example/p/9")
        async with producer(env.kafka_bootstrap) as out:
            from herald.testkit import send_event

            await send_event(out, env.names.post_results, later, key=post_id)

        async def has_permalink() -> dict[str, Any] | None:
            body = await post_status(http, post_id, "published")
            return body if body and body["targets"][0]["permalink"] else None

        final = await eventually(has_permalink)

    assert first["targets"][0]["platform_post_id"] is None
    assert final["targets"][0]["state"] == "published"
    assert final["targets"][0]["permalink"] == "https://fb.example/p/9"
    assert final["targets"][0]["platform_post_id"] == f"fb_{post_id}-0"
