"""`post.submitted` must prove its producer (issue 19, finding 2; ADR 0014): on real Kafka and
FerretDB, every way of not being signed by an active `posts:write` key of the named business
becomes a stored rejection and one `post.rejected` with the reason, no post, and no retry; a
properly signed submission (binary or structured mode) becomes a post."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pytest

from herald.events import PostRejected
from herald.producerauth import HEADER, sign
from herald.testkit import Collector, producer, running
from scheduler.testing import (
    KEY_A,
    KEY_B,
    KafkaHeaders,
    SchedulerEnv,
    auth,
    client,
    eventually,
    signed,
    submission_record,
)

pytestmark = pytest.mark.connected

READER = f"hk_00000000000000cc_{'c' * 43}"  # biz-a, posts:read only
OLD = f"hk_00000000000000dd_{'d' * 43}"  # biz-a, issued before event keys existed
REVOKED = f"hk_00000000000000ee_{'e' * 43}"  # biz-a, revoked before use


def _data(key: str, business: str = "biz-a") -> dict[str, Any]:
    return {
        "business_id": business,
        "idempotency_key": key,
        "content": {"text": f"post {key}"},
        "targets": [{"integration_id": "fb-1", "platform": "facebook"}],
    }


def _with(headers: KafkaHeaders, name: str, value: str) -> KafkaHeaders:
    return [*(h for h in headers if h[0] != name), (name, value.encode())]


def _bad_records() -> dict[str, tuple[bytes, KafkaHeaders, str]]:
    """idempotency key → (value, headers, expected violation code)."""
    records: dict[str, tuple[bytes, KafkaHeaders, str]] = {}

    def add(name: str, value: bytes, headers: KafkaHeaders, code: str) -> None:
        records[name] = (value, headers, code)

    value, headers = submission_record(_data("unsigned"), key=None)
    add("unsigned", value, headers, "unauthenticated")
    value, headers = submission_record(_data("garbled"))
    add("garbled", value, _with(headers, HEADER, "t=1,keyid=zz,sig=nope"), "unauthenticated")
    value, headers = submission_record(_data("altered"))  # signed, then the content changed
    add("altered", value.replace(b"post altered", b"post ALTERED"), headers, "unauthenticated")
    value, headers = submission_record(_data("other-business"), key=KEY_B)
    add("other-business", value, headers, "forbidden")
    value, headers = submission_record(_data("read-only"), key=READER)
    add("read-only", value, headers, "forbidden")
    value, headers = submission_record(_data("no-event-key"), key=OLD)
    add("no-event-key", value, headers, "unauthenticated")
    value, headers = submission_record(_data("revoked"), key=REVOKED)
    add("revoked", value, headers, "unauthenticated")
    value, headers = submission_record(_data("stale"), key=None)
    stale = sign(KEY_A, value, now=time.time() - 2 * 86_400)
    add("stale", value, _with(headers, HEADER, stale), "unauthenticated")
    value, headers = submission_record(_data("unknown-key"), key=None)
    forged = sign(f"hk_0123456789abcdef_{'f' * 43}", value)
    add("unknown-key", value, _with(headers, HEADER, forged), "unauthenticated")
    value, headers = submission_record(_data("attribute"))  # signed, attribute names biz-b
    add("attribute", value, _with(headers, "ce_businessid", "biz-b"), "forbidden")
    structured = json.dumps(
        {
            "specversion": "1.0",
            "id": "evt-structured-unsigned",
            "source": "crm",
            "type": "herald.post.submitted.v1",
            "data": _data("structured-unsigned"),
        }
    ).encode()
    add(
        "structured-unsigned",
        structured,
        [("content-type", b"application/cloudevents+json")],
        "unauthenticated",
    )
    return records


async def test_unproven_producers_get_a_rejection_with_the_reason_and_no_post(
    scheduler_env: SchedulerEnv,
) -> None:
    env = scheduler_env
    env.integrations.add("fb-1")
    env.keys.add(READER, "biz-a", frozenset({"posts:read"}))
    env.keys.add(OLD, "biz-a")
    env.keys.keys[OLD] = replace(env.keys.keys[OLD], event_key=None)
    env.keys.add(REVOKED, "biz-a")
    env.keys.revoke(REVOKED)
    bad = _bad_records()
    good_value, good_headers = submission_record(_data("good"))
    structured_good = json.dumps(
        {
            "specversion": "1.0",
            "id": "evt-structured-good",
            "source": "crm",
            "type": "herald.post.submitted.v1",
            "data": _data("structured-good"),
        }
    ).encode()
    app = env.app()
    async with Collector(env.kafka_bootstrap, [env.names.post_results]) as results, running(app):
        async with producer(env.kafka_bootstrap) as out:
            for value, headers, _ in bad.values():  # one partition (one key): in order
                await out.send_and_wait(
                    env.names.post_submitted, value, key=b"biz-a", headers=headers
                )
            await out.send_and_wait(
                env.names.post_submitted, good_value, key=b"biz-a", headers=good_headers
            )
            structured_headers = signed(
                structured_good, [("content-type", b"application/cloudevents+json")]
            )
            await out.send_and_wait(
                env.names.post_submitted, structured_good, key=b"biz-a", headers=structured_headers
            )
        http = client(app)

        async def both_posts() -> list[dict[str, Any]] | None:
            items = (await http.get("/v1/posts", headers=auth())).json()["items"]
            return items if len(items) == 2 else None

        posts = await eventually(both_posts)
        await results.wait_for(lambda c: len(c.events(PostRejected)) >= len(bad))
        kept = await env.db["rejections"].find().to_list()
        everything = (await http.get("/v1/posts", headers=auth())).json()["items"]

    assert {p["idempotency_key"] for p in posts} == {"good", "structured-good"}
    assert len(everything) == 2
    rejections = {r.idempotency_key: r for r in results.events(PostRejected)}
    assert len(results.events(PostRejected)) == len(bad)  # each once: poison is not retried
    assert set(rejections) == set(bad)
    for name, (_, _, code) in bad.items():
        violations = rejections[name].violations
        assert [v.code for v in violations] == [code], (name, violations)
        assert violations[0].message, name
    assert "another business" in rejections["other-business"].violations[0].message
    assert rejections["other-business"].violations[0].path == "business_id"
    assert "posts:write" in rejections["read-only"].violations[0].message
    assert "revoked" in rejections["revoked"].violations[0].message
    assert "ago" in rejections["stale"].violations[0].message
    assert rejections["unsigned"].violations[0].path == HEADER
    assert len(kept) == len(bad)
    assert all(k["body_base64"] for k in kept)
