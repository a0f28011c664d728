"""Outbound webhooks and correlation on real Kafka and FerretDB (ADR 0021): a business's
receiver on loopback gets every notice of a post once, signed, with its correlation, and later
when it answered 500 first; refused submissions are served per business; integration changes
and a failing endpoint are told."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from herald.cloudevents import decode
from herald.errors import ErrorCategory
from herald.events import (
    FailureDetail,
    IntegrationConnected,
    IntegrationExpired,
    IntegrationStatus,
    PostFailed,
    PostPublished,
    PostRejected,
    PostRequested,
)
from herald.mongo import Document
from herald.notices import NOTICES, Notice
from herald.testkit import Collector, producer, running, send_event
from herald.testkit.servers import free_port, serving_in_thread
from herald.topics import Platform
from scheduler.app import create_app
from scheduler.testing import (
    KEY_B,
    FakePublisher,
    SchedulerEnv,
    auth,
    client,
    eventually,
    post_body,
    published,
)
from scheduler.webhooks.settings import WebhookSettings
from scheduler.webhooks.testing import Receiver
from scheduler.webhooks.wiring import sweep

pytestmark = pytest.mark.connected

ERROR = FailureDetail(
    category=ErrorCategory.PERMANENT,
    code="100",
    message="Invalid parameter",
    remediation="Change the post's content, then submit it again.",
)


def _app(env: SchedulerEnv, **webhooks: Any) -> FastAPI:
    settings = env.settings().model_copy(
        update={
            "webhooks": WebhookSettings.model_validate(
                {
                    "allow_loopback": True,
                    "allowed_schemes": ["http", "https"],
                    "retry_delays_s": [0.3],
                    "poll_s": 0.1,
                    **webhooks,
                }
            )
        }
    )
    return create_app(settings, api_keys=env.keys, integrations=env.integrations)


def _answer(request: PostRequested) -> PostPublished | PostFailed:
    if request.integration_id == "fb-2":  # this one fails for good
        return PostFailed(
            **request.model_dump(
                include={"post_id", "target_id", "business_id", "integration_id", "platform"}
            ),
            attempt=1,
            final=True,
            error=ERROR,
            failed_at=datetime.now(UTC),
        )
    return published(request)


async def _endpoint(http: httpx.AsyncClient, url: str, *types: str) -> dict[str, Any]:
    created = await http.post(
        "/v1/webhooks/endpoints",
        json={"url": url, "event_types": list(types), "description": "test receiver"},
        headers=auth(),
    )
    assert created.status_code == 201, created.text
    body: dict[str, Any] = created.json()
    return body


def _notices(collector: Collector) -> list[Notice]:
    found: list[Notice] = []
    for r in collector.received:
        event = decode(r.value or b"", r.headers, expect=NOTICES).event
        assert isinstance(event, Notice)
        found.append(event)
    return found


async def test_a_post_is_told_once_per_notice_signed_and_correlated(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    env.integrations.add("fb-2")
    receiver = Receiver(failures_left=2)  # the first two deliveries answer 500
    app = _app(env)
    topics = [env.names.business_events]
    with serving_in_thread(receiver.app()) as base:
        async with (
            Collector(env.kafka_bootstrap, topics) as kafka,
            FakePublisher(env.kafka_bootstrap, env.names, _answer),
            running(app),
        ):
            http = client(app)
            endpoint = await _endpoint(http, f"{base}/hook")
            receiver.secret = endpoint["secret"]
            body = {**post_body("fb-1", "fb-2"), "external_ref": "crm-order-7"}
            created = await http.post(
                "/v1/posts", json=body, headers=auth(**{"Idempotency-Key": "order-7"})
            )
            assert created.status_code == 201, created.text
            post_id = created.json()["post_id"]
            await eventually(lambda: _async(receiver.of_type("post.finished")))
            await eventually(lambda: _async(len(kafka.received) >= 4))

            async def all_delivered() -> list[dict[str, Any]]:
                path = f"/v1/webhooks/endpoints/{endpoint['id']}/deliveries"
                items: list[dict[str, Any]] = (await http.get(path, headers=auth())).json()["items"]
                return items if all(d["state"] == "delivered" for d in items) else []

            log = await eventually(all_delivered)
            by_ref = await http.get("/v1/posts?external_ref=crm-order-7", headers=auth())
            by_key = await http.get("/v1/posts?idempotency_key=order-7", headers=auth())
            other = await http.get("/v1/posts?external_ref=crm-order-8", headers=auth())
            ping = await http.post(f"/v1/webhooks/endpoints/{endpoint['id']}/ping", headers=auth())
            await eventually(lambda: _async(receiver.of_type("ping")))
            listed = (await http.get("/v1/webhooks/endpoints", headers=auth())).json()
            elsewhere = (await http.get("/v1/webhooks/endpoints", headers=auth(KEY_B))).json()

    kinds = _check_told(receiver, post_id)
    # The two refused deliveries came again later, as the log shows.
    retried = [d for d in log if [a["status_code"] for a in d["attempt_log"]] == [500, 200]]
    assert len(retried) == 2
    assert all(d["state"] == "delivered" for d in log)
    # The same notices on Kafka, with the same ids as the webhooks'.
    on_kafka = _notices(kafka)
    assert sorted(n.event_type for n in on_kafka) == sorted(
        f"herald.{k}.v1" for k in kinds if k != "ping"
    )
    webhook_ids = {r.message_id for r in receiver.delivered()}
    assert {r.headers["ce_id"] for r in kafka.received} <= webhook_ids
    assert [p["post_id"] for p in by_ref.json()["items"]] == [post_id]
    assert [p["post_id"] for p in by_key.json()["items"]] == [post_id]
    assert other.json()["items"] == []
    assert ping.status_code == 202
    assert "secret" not in listed["items"][0]
    assert elsewhere["items"] == []


def _check_told(receiver: Receiver, post_id: str) -> list[str]:
    """Every notice once, verified, the forgeries refused, correlated; returns their types."""
    delivered = receiver.delivered()
    kinds = sorted(r.type for r in delivered)
    assert kinds == ["ping", "post.accepted", "post.finished", "target.failed", "target.published"]
    assert len({r.message_id for r in delivered}) == len(delivered)
    assert all(r.verified and r.forgeries_refused for r in receiver.received)
    for r in delivered:
        if r.type != "ping":
            assert r.data["post_id"] == post_id
            assert r.data["external_ref"] == "crm-order-7"
            assert r.data["idempotency_key"] == "order-7"
    failed = receiver.of_type("target.failed")[0].data
    assert (failed["target_index"], failed["integration_id"]) == (1, "fb-2")
    assert failed["error"] == ERROR.model_dump(mode="json")
    assert receiver.of_type("post.finished")[0].data["status"] == "partially_published"
    assert receiver.of_type("target.published")[0].data["target_index"] == 0
    return kinds


async def test_refused_submissions_are_served_per_business_with_what_the_body_named(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    app = _app(env)
    # Not a CloudEvent (no ce_ headers), but its body names the business and the key.
    body = json.dumps({"business_id": "biz-a", "idempotency_key": "crm-9", "content": 1})
    async with (
        Collector(env.kafka_bootstrap, [env.names.post_results]) as results,
        running(app),
    ):
        async with producer(env.kafka_bootstrap) as out:
            await out.send_and_wait(env.names.post_submitted, body.encode(), key=b"biz-a")
        await results.wait_for(lambda c: len(c.events(PostRejected)) == 1)
        http = client(app)
        mine = (await http.get("/v1/rejections", headers=auth())).json()
        by_key = (await http.get("/v1/rejections?idempotency_key=crm-9", headers=auth())).json()
        theirs = (await http.get("/v1/rejections", headers=auth(KEY_B))).json()

    rejected = results.events(PostRejected)[0]
    assert (rejected.business_id, rejected.idempotency_key) == ("biz-a", "crm-9")
    assert [r["idempotency_key"] for r in mine["items"]] == ["crm-9"]
    assert mine["items"][0]["violations"][0]["path"] == "(event)"
    assert mine["items"][0]["body"] == body
    assert len(by_key["items"]) == 1
    assert theirs["items"] == []


async def test_integration_changes_and_a_failing_endpoint_are_told(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    receiver = Receiver()
    # The dead endpoint's one delivery is given up by the attempt that disables the endpoint.
    app = _app(
        env,
        retry_delays_s=[0.2],
        give_up_after_s=0.5,
        disable_after_s=0.5,
        expiry_check_s=0.2,
        expiring_days_ahead=7,
    )
    now = datetime.now(UTC)
    facts: dict[str, Any] = {
        "integration_id": "tt-1",
        "business_id": "biz-a",
        "platform": Platform.TIKTOK,
        "account_id": "open-1",
        "status": IntegrationStatus.ACTIVE,
        "occurred_at": now,
    }
    connected = IntegrationConnected(**facts, reconnect_by=now + timedelta(days=3, hours=1))
    before = {o: _attempts(app, o) for o in ("delivered", "failed", "gave_up")}
    with serving_in_thread(receiver.app()) as base:
        async with running(app), producer(env.kafka_bootstrap) as out:
            http = client(app)
            good = await _endpoint(http, f"{base}/hook")
            receiver.secret = good["secret"]
            dead = await _endpoint(
                http, f"http://127.0.0.1:{free_port()}/hook", "integration.expiring"
            )
            await send_event(out, env.names.integration_events, connected, key="tt-1")
            await eventually(lambda: _async(receiver.of_type("webhook.endpoint_disabled")))
            expired = IntegrationExpired(
                **{**facts, "status": IntegrationStatus.EXPIRED, "occurred_at": datetime.now(UTC)},
                reason="invalid_grant: the token was revoked",
            )
            await send_event(out, env.names.integration_events, expired, key="tt-1")
            await eventually(lambda: _async(receiver.of_type("integration.needs_reconnect")))
            shown = (await http.get(f"/v1/webhooks/endpoints/{dead['id']}", headers=auth())).json()
            log = (
                await http.get(f"/v1/webhooks/endpoints/{dead['id']}/deliveries", headers=auth())
            ).json()["items"]
            # Each attempt is counted once it is recorded (after its answer).
            await eventually(
                lambda: _async(
                    _attempts(app, "delivered") >= len(receiver.delivered())
                    and _attempts(app, "failed") + _attempts(app, "gave_up")
                    >= len(log[0]["attempt_log"])
                )
            )

    expiring = receiver.of_type("integration.expiring")
    assert len(expiring) == 1  # once per deadline, though the check ran many times
    assert expiring[0].data["days_left"] == 3
    assert expiring[0].data["integration_id"] == "tt-1"
    disabled = receiver.of_type("webhook.endpoint_disabled")[0].data
    assert disabled["endpoint_id"] == dead["id"]
    assert shown["enabled"] is False
    assert "failed" in shown["disabled_reason"]
    attempts = log[0]["attempt_log"]
    assert len(attempts) >= 2
    assert all(a["status_code"] is None and a["error"] for a in attempts)
    reconnect = receiver.of_type("integration.needs_reconnect")[0].data
    assert reconnect["reason"] == "invalid_grant: the token was revoked"
    # Counted without a business or URL label; every outcome served at 0 before the first.
    assert before == {"delivered": 0.0, "failed": 0.0, "gave_up": 0.0}
    assert _attempts(app, "gave_up") == 1.0
    registry = app.state.registry
    assert registry.get_sample_value("herald_scheduler_webhook_endpoints_disabled_total") == 1.0
    timed = registry.get_sample_value("herald_scheduler_webhook_attempt_seconds_count")
    assert timed == sum(_attempts(app, o) for o in ("delivered", "failed", "gave_up"))


def _attempts(app: FastAPI, outcome: str) -> float:
    value = app.state.registry.get_sample_value(
        "herald_scheduler_webhook_attempts_total", {"outcome": outcome}
    )
    assert value is not None, f"no {outcome} series"
    return float(value)


async def _async(value: Any) -> Any:
    return value


async def test_finished_deliveries_attempts_and_claims_are_swept(
    mongo_db: AsyncDatabase[Document],
) -> None:
    old = datetime.now(UTC) - timedelta(days=40)
    await mongo_db["webhook_deliveries"].insert_many(
        [
            {"_id": "done", "state": "delivered", "created_at": old},
            {"_id": "given-up", "state": "failed", "created_at": old},
            {"_id": "waiting", "state": "pending", "created_at": old},
            {"_id": "recent", "state": "delivered", "created_at": datetime.now(UTC)},
        ]
    )
    await mongo_db["webhook_attempts"].insert_one({"_id": "done:1", "at": old})
    await mongo_db["webhook_claims"].insert_one({"_id": "done:1", "claimed_at": old})

    deleted = await sweep(mongo_db, WebhookSettings()).sweep_once()

    left = sorted(d["_id"] for d in await mongo_db["webhook_deliveries"].find().to_list())
    assert left == ["recent", "waiting"]
    assert deleted == {"webhook_claims": 1, "webhook_attempts": 1, "webhook_deliveries": 2}


async def test_what_the_scheduler_ends_itself_is_told_too(scheduler_env: SchedulerEnv) -> None:
    """A cancelled post, and a target failed at dispatch because its connection expired."""
    env = scheduler_env
    env.integrations.add("fb-1")
    env.integrations.add("fb-2")
    receiver = Receiver()
    app = _app(env)
    soon, later = (datetime.now(UTC) + timedelta(seconds=s) for s in (10, 3600))
    with serving_in_thread(receiver.app()) as base:
        async with running(app), producer(env.kafka_bootstrap) as out:
            http = client(app)
            receiver.secret = (
                await _endpoint(http, f"{base}/hook", "post.finished", "target.failed")
            )["secret"]
            ids = []
            for integration, at in (("fb-1", later), ("fb-2", soon)):
                body = {**post_body(integration), "schedule": {"publish_at": at.isoformat()}}
                created = await http.post("/v1/posts", json=body, headers=auth())
                ids.append(created.json()["post_id"])
            cancelled = await http.post(f"/v1/posts/{ids[0]}/cancel", headers=auth())
            expired = IntegrationExpired(
                integration_id="fb-2",
                business_id="biz-a",
                platform=Platform.FACEBOOK,
                account_id="page-2",
                status=IntegrationStatus.EXPIRED,
                occurred_at=datetime.now(UTC),
                reason="the token was revoked",
            )
            await send_event(out, env.names.integration_events, expired, key="fb-2")
            await eventually(lambda: _async(len(receiver.of_type("post.finished")) == 2), 40)

    assert cancelled.status_code == 200, cancelled.text
    finished = {r.data["post_id"]: r.data["status"] for r in receiver.of_type("post.finished")}
    assert finished == {ids[0]: "cancelled", ids[1]: "failed"}
    (failed,) = receiver.of_type("target.failed")
    assert (failed.data["post_id"], failed.data["error"]["category"]) == (ids[1], "needs_reauth")
