"""`post.submitted` that no retry can help is answered once, never retried forever (issue 19,
finding 4): a time whose conversion overflows, a zone name that is a directory, text that cannot
be stored, nesting that exhausts the parser, numbers past 64 bits each become a `post.rejected`
with the reason, the input kept, no post; and whatever else fails the same way each time it is
handled (an `OverflowError` from deep inside at once, a `TypeError` no dependency explains at its
third attempt) is answered the same way instead of put back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from herald.events import PostRejected
from herald.testkit import Collector, producer, running
from scheduler.ports import IntegrationInfo
from scheduler.testing import FakeIntegrations, SchedulerEnv, eventually, signed

pytestmark = pytest.mark.connected

HEADERS = [
    ("ce_specversion", b"1.0"),
    ("ce_source", b"crm"),
    ("ce_type", b"herald.post.submitted.v1"),
    ("content-type", b"application/json"),
]


def submission(key: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "business_id": "biz-a",
        "idempotency_key": key,
        "content": {"text": "hello"},
        "targets": [{"integration_id": "fb-1", "platform": "facebook"}],
    }
    body.update(changes)
    return body


POISON: dict[str, bytes] = {
    "year-9999": json.dumps(
        submission("p1", schedule={"publish_at": "9999-12-31T23:59:59-05:00"})
    ).encode(),
    "year-1": json.dumps(
        submission("p2", schedule={"publish_at": "0001-01-01T00:00:00+01:00"})
    ).encode(),
    "zone-directory": json.dumps(
        submission("p3", schedule={"publish_at": "2031-01-01T09:00:00", "timezone": "Europe"})
    ).encode(),
    "surrogate": json.dumps(submission("p4", content={"text": "\ud800"})).encode(),
    "nul": json.dumps(submission("p5", content={"text": "a\x00b"})).encode(),
    "deep": b'{"business_id": "biz-a", "content": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "huge-int": json.dumps(
        submission(
            "p7",
            content={"media": [{"kind": "image", "url": "https://a/b.jpg", "size_bytes": 2**64}]},
        )
    ).encode(),
}


async def test_poison_becomes_one_rejection_with_a_reason_and_no_post(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    app = env.app()
    async with Collector(env.kafka_bootstrap, [env.names.post_results]) as results, running(app):
        async with producer(env.kafka_bootstrap) as out:
            for name, value in POISON.items():
                headers = [*HEADERS, ("ce_id", f"evt-{name}".encode())]
                await out.send_and_wait(
                    env.names.post_submitted, value, headers=signed(value, headers)
                )
        await results.wait_for(lambda c: len(c.events(PostRejected)) == len(POISON))
        kept = await env.db["rejections"].count_documents({})
        posts = await env.db["posts"].count_documents({})

    rejected = {r.source_event_id: r.violations for r in results.events(PostRejected)}
    assert set(rejected) == {f"evt-{name}" for name in POISON}
    assert all(v and v[0].message for v in rejected.values())
    assert (kept, posts) == (len(POISON), 0)
    paths = {name: [v.path for v in rejected[f"evt-{name}"]] for name in POISON}
    assert paths["year-9999"] == ["schedule.publish_at"]
    assert paths["zone-directory"] == ["schedule.timezone"]


class FailingIntegrations(FakeIntegrations):
    """Answers like auth-service, except that one integration's answer breaks the handler in
    a way no retry changes (a stand-in for a bug or an unforeseen value)."""

    bug_calls: int = 0

    async def get(self, integration_id: str, business_id: str) -> IntegrationInfo | None:
        if integration_id == "fb-poison":
            msg = "date value out of range"
            raise OverflowError(msg)
        if integration_id == "fb-bug":
            self.bug_calls += 1
            msg = "'NoneType' object is not subscriptable"
            raise TypeError(msg)
        return await super().get(integration_id, business_id)


async def test_what_fails_the_same_way_each_time_is_answered_not_retried_forever(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    integrations = env.integrations = FailingIntegrations()
    env.integrations.add("fb-1")
    app = env.app()
    value = json.dumps(
        submission("p-bug", targets=[{"integration_id": "fb-poison", "platform": "facebook"}])
    ).encode()
    typed = json.dumps(
        submission("p-type", targets=[{"integration_id": "fb-bug", "platform": "facebook"}])
    ).encode()
    fine = json.dumps(submission("p-fine")).encode()
    async with Collector(env.kafka_bootstrap, [env.names.post_results]) as results, running(app):
        async with producer(env.kafka_bootstrap) as out:
            for name, sent in (("bug", value), ("type", typed), ("fine", fine)):
                headers = [*HEADERS, ("ce_id", f"evt-{name}".encode())]
                await out.send_and_wait(
                    env.names.post_submitted, sent, key=b"biz-a", headers=signed(sent, headers)
                )
        await results.wait_for(lambda c: len(c.events(PostRejected)) == 2)

        async def the_next_one_went_through() -> int:
            return await env.db["posts"].count_documents({"idempotency_key": "p-fine"})

        await eventually(the_next_one_went_through)

    rejected = {r.source_event_id: r.violations[0] for r in results.events(PostRejected)}
    assert set(rejected) == {"evt-bug", "evt-type"}
    assert {v.code for v in rejected.values()} == {"unprocessable"}
    assert "OverflowError" in rejected["evt-bug"].message
    assert "TypeError" in rejected["evt-type"].message
    assert integrations.bug_calls == 3  # put back twice, answered at the third strike
