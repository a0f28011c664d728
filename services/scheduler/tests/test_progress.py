"""A target on its way shows its stage (ADR 0018): while Instagram processes a container the
publisher reports `processing`, the target reads it next to `dispatched`, and once the outcome
is recorded the stage is gone; a report arriving after the outcome changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from herald.events import Event, PostProgressed, PostPublished, PostRequested, ProcessingStage
from herald.testkit import producer, running, send_event
from herald.topics import Platform
from scheduler.testing import FakePublisher, SchedulerEnv, auth, client, eventually, post_status

pytestmark = pytest.mark.connected

# The report that came after the outcome, counted and left aside.
STALE = 'effect="stale",event="herald.post.progressed.v1"'


def processing(request: PostRequested) -> Event | None:
    return PostProgressed(
        **request.model_dump(include={"post_id", "target_id", "business_id", "integration_id"}),
        platform=request.platform,
        stage=ProcessingStage.PROCESSING,
        detail="IN_PROGRESS",
        attempt=1,
        reported_at=datetime.now(UTC),
    )


async def test_a_processing_container_shows_its_stage_until_published(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("ig-1", platform=Platform.INSTAGRAM)
    app = env.app()
    body = {
        "content": {
            "text": "Autumn menu",
            "media": [{"kind": "image", "url": "https://cdn.example/menu.jpg"}],
        },
        "targets": [{"integration_id": "ig-1", "platform": "instagram"}],
    }
    async with FakePublisher(env.kafka_bootstrap, env.names, processing), running(app):
        http = client(app)
        created = await http.post("/v1/posts", json=body, headers=auth())
        assert created.status_code == 201, created.text
        post_id = created.json()["post_id"]

        async def staged() -> dict[str, Any] | None:
            shown = (await http.get(f"/v1/posts/{post_id}", headers=auth())).json()
            return shown if shown["targets"][0]["stage"] is not None else None

        during = await eventually(staged)
        target = during["targets"][0]
        ref: dict[str, Any] = {
            "post_id": post_id,
            "target_id": target["target_id"],
            "business_id": "biz-a",
            "integration_id": "ig-1",
            "platform": Platform.INSTAGRAM,
        }
        now = datetime.now(UTC)
        published = PostPublished(**ref, attempt=1, platform_post_id="17890", published_at=now)
        late = PostProgressed(
            **ref, stage=ProcessingStage.PROCESSING, attempt=1, reported_at=now - timedelta(1)
        )
        async with producer(env.kafka_bootstrap) as out:
            await send_event(out, env.names.post_results, published, key=post_id)
            await send_event(out, env.names.post_results, late, key=post_id)
        after = await eventually(lambda: post_status(http, post_id, "published"))

        async def late_seen() -> str | None:
            text = (await http.get("/metrics")).text
            return text if STALE in text else None

        await eventually(late_seen)
        final = (await http.get(f"/v1/posts/{post_id}", headers=auth())).json()

    assert (target["state"], target["stage"]["stage"], target["stage"]["detail"]) == (
        "dispatched",
        "processing",
        "IN_PROGRESS",
    )
    assert after["targets"][0]["stage"] is None
    assert after["targets"][0]["platform_post_id"] == "17890"
    assert (final["targets"][0]["state"], final["targets"][0]["stage"]) == ("published", None)
