"""Results move targets forward only; an expired integration fails a target with needs_reauth
instead of dispatching it; a person's retry dispatches a failed target again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from herald.delivery import REPLAY_ID
from herald.errors import ErrorCategory
from herald.events import (
    FailureDetail,
    IntegrationExpired,
    IntegrationStatus,
    PostFailed,
    PostRequested,
    PostRetryScheduled,
    RetryReason,
)
from herald.testkit import producer, running, send_event
from herald.topics import Platform
from scheduler.testing import (
    FakePublisher,
    SchedulerEnv,
    auth,
    client,
    eventually,
    post_body,
    post_status,
    published,
)

pytestmark = pytest.mark.connected

ERROR = FailureDetail(
    category=ErrorCategory.PERMANENT,
    code="100",
    subcode="33",
    message="Invalid parameter",
    remediation="Remove the unsupported link preview and retry.",
)


def refs(request: PostRequested) -> dict[str, Any]:
    return request.model_dump(
        include={"post_id", "target_id", "business_id", "integration_id", "platform"}
    )


def failed(request: PostRequested, *, final: bool = True, attempt: int = 1) -> PostFailed:
    return PostFailed(
        **refs(request), attempt=attempt, final=final, error=ERROR, failed_at=datetime.now(UTC)
    )


async def test_results_never_move_a_target_back(scheduler_env: SchedulerEnv) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    app = env.app()
    silent = FakePublisher(env.kafka_bootstrap, env.names, lambda _: None)
    async with silent as publisher, running(app), producer(env.kafka_bootstrap) as out:
        http = client(app)
        created = await http.post("/v1/posts", json=post_body("fb-1"), headers=auth())
        post_id = created.json()["post_id"]
        await eventually(lambda: asyncio.sleep(0, publisher.requests))
        request = publisher.requests[0]
        retry = PostRetryScheduled(
            **refs(request),
            next_attempt=2,
            reason=RetryReason.RETRY,
            next_attempt_at=datetime.now(UTC) + timedelta(seconds=10),
            tier="10s",
            error=ERROR,
        )
        for event in (retry, published(request, attempt=2), retry, failed(request)):
            await send_event(out, env.names.post_results, event, key=post_id)
        body = await eventually(lambda: post_status(http, post_id, "published"))
        await asyncio.sleep(1.0)  # the older retry and failure arrive after publication
        final = (await http.get(f"/v1/posts/{post_id}", headers=auth())).json()
        history = (await http.get(f"/v1/posts/{post_id}/history", headers=auth())).json()
    target = final["targets"][0]
    assert body["status"] == final["status"] == "published"
    assert target["state"] == "published"
    assert target["attempts"] == 2
    kinds = [e["kind"] for e in history["entries"]]
    assert kinds.count("post.retry_scheduled") == 2
    assert kinds.count("post.failed") == 1  # kept as history, without effect


async def test_failure_reads_actionably_and_retry_dispatches_again(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    env.integrations.add("fb-2")
    app = env.app()

    def answer(request: PostRequested) -> Any:
        first_time = REPLAY_ID not in publisher.headers[-1]
        if request.integration_id == "fb-2" and first_time:
            return failed(request)
        return published(request)

    async with FakePublisher(env.kafka_bootstrap, env.names, answer) as publisher, running(app):
        http = client(app)
        created = await http.post("/v1/posts", json=post_body("fb-1", "fb-2"), headers=auth())
        post_id = created.json()["post_id"]
        partial = await eventually(lambda: post_status(http, post_id, "partially_published"))
        retried = await http.post(f"/v1/posts/{post_id}/retry", headers=auth())
        done = await eventually(lambda: post_status(http, post_id, "published"))
        nothing = await http.post(f"/v1/posts/{post_id}/retry", headers=auth())
    failing = next(t for t in partial["targets"] if t["integration_id"] == "fb-2")
    assert failing["state"] == "failed"
    assert failing["last_error"]["code"] == "100"
    assert failing["last_error"]["remediation"] == ERROR.remediation
    assert retried.status_code == 200
    assert retried.json()["changed"] == [f"{post_id}-1"]
    assert {t["state"] for t in done["targets"]} == {"published"}
    assert [h.get(REPLAY_ID) for h in publisher.headers].count(f"retry:{post_id}-1:2") == 1
    assert nothing.status_code == 409


async def test_expired_integration_fails_with_needs_reauth_instead_of_dispatch(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    app = env.app()
    async with FakePublisher(env.kafka_bootstrap, env.names) as publisher, running(app):
        http = client(app)
        # due after the 5 s in which a dispatcher claims ahead (and reads the status)
        soon = {"publish_at": (datetime.now(UTC) + timedelta(seconds=8)).isoformat()}
        created = await http.post(
            "/v1/posts", json=post_body("fb-1", schedule=soon), headers=auth()
        )
        post_id = created.json()["post_id"]
        expired = IntegrationExpired(
            integration_id="fb-1",
            business_id="biz-a",
            platform=Platform.FACEBOOK,
            account_id="page-1",
            status=IntegrationStatus.EXPIRED,
            occurred_at=datetime.now(UTC),  # after the submission's check said active
            reason="invalid_grant",
        )
        async with producer(env.kafka_bootstrap) as out:
            await send_event(out, env.names.integration_events, expired, key="fb-1")
        body = await eventually(lambda: post_status(http, post_id, "failed"))

        async def gauge_shows_it() -> str | None:
            # Finished: no longer among the unfinished targets the gauge counts.
            text = (await http.get("/metrics")).text
            return text if 'herald_scheduler_targets{state="scheduled"} 0.0' in text else None

        metrics = await eventually(gauge_shows_it)
    target = body["targets"][0]
    assert target["last_error"]["category"] == "needs_reauth"
    assert "Reconnect" in target["last_error"]["remediation"]
    assert "integration fb-1" in target["last_error"]["remediation"]  # which one to reconnect
    assert publisher.requests == []
    assert 'herald_scheduler_targets{state="failed"}' not in metrics  # a counter's business
    assert env.integrations.forgotten == ["fb-1"]  # the submission's answer is not reused
    assert 'herald_scheduler_dispatches_total{outcome="needs_reauth",platform="facebook"} 1.0' in (
        metrics
    )
