"""One trace from the scheduler's API through publisher-facebook's platform call to the result
(the scheduler, the publisher and the sandbox in this process, on real Kafka and FerretDB, spans
kept by an in-process exporter): a request carrying a `traceparent` yields the API's server span,
the dispatch, the publisher's consume, its calls to the platform and the scheduler's recording of
the result, all in the caller's trace and each a child of the one before."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from pymongo.asynchronous.database import AsyncDatabase

from herald.mongo import Document
from herald.testkit import isolated_topics, running
from herald.testkit.tracing import recorded_spans
from herald.topics import TopicNames
from herald_localstack.pytest_plugin import InfraEndpoints
from platform_sandbox.testing.served import served_sandbox
from publisher_testenv.env import TEST_TIERS
from publisher_testenv.facebook import Env as FacebookEnv
from scheduler.testing import SchedulerEnv, auth, client, eventually, post_body, post_status

pytestmark = pytest.mark.connected

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT = f"00-{TRACE_ID}-b7ad6b7169203331-01"


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    names = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


async def test_one_trace_from_the_api_through_the_platform_call_to_the_result(
    infra: InfraEndpoints, mongo_db: AsyncDatabase[Document]
) -> None:
    spans = recorded_spans()
    names = TopicNames(prefix=f"t{uuid.uuid4().hex[:10]}.", tiers=TEST_TIERS)
    ledger_db = mongo_db.client[f"{mongo_db.name}_fb"]
    sandbox_settings = FacebookEnv.sandbox_settings(0)
    try:
        async with (
            isolated_topics(infra.kafka_bootstrap, names.plan(2)),
            served_sandbox("facebook", **sandbox_settings) as sandbox,
        ):
            scheduler = SchedulerEnv(infra.kafka_bootstrap, infra.mongo_uri, names, mongo_db)
            scheduler.integrations.add("i1")
            publisher = FacebookEnv(
                infra.kafka_bootstrap, infra.mongo_uri, names, ledger_db, sandbox
            )
            scheduler_app = scheduler.app()
            async with running(publisher.app()), running(scheduler_app):
                http = client(scheduler_app)
                answer = await http.post(
                    "/v1/posts",
                    json=post_body("i1", text="Traced herald-marker:trace-1"),
                    headers=auth(**{"Idempotency-Key": "trace-1", "traceparent": PARENT}),
                )
                assert answer.status_code == 201, answer.text
                post_id = answer.json()["post_id"]
                await eventually(lambda: post_status(http, post_id, "published"))

                async def recorded() -> Sequence[ReadableSpan]:
                    done = spans.get_finished_spans()
                    return done if any(s.name == "result post.results" for s in done) else ()

                await eventually(recorded)
    finally:
        await mongo_db.client.drop_database(ledger_db.name)

    ours = [s for s in spans.get_finished_spans() if format(s.context.trace_id, "032x") == TRACE_ID]
    by_id = {s.context.span_id: s for s in ours}
    named = {s.name: s for s in ours}
    chain = ["result post.results", "consume post.requested.facebook"]
    chain += ["dispatch post.requested.facebook", "POST /v1/posts"]
    assert set(chain) <= set(named), sorted(named)
    assert _ancestors(named["result post.results"], by_id) == chain[1:]
    assert format(named["POST /v1/posts"].parent.span_id, "016x") == "b7ad6b7169203331"  # type: ignore[union-attr]  # it has one: the caller's
    platform_calls = [s for s in ours if s.name.startswith("HTTP POST")]
    assert platform_calls, sorted(named)
    for call in platform_calls:
        assert "consume post.requested.facebook" in _ancestors(call, by_id)
        assert call.attributes is not None
        assert call.attributes["http.response.status_code"] == 200
