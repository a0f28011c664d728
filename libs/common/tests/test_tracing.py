"""Trace context through HTTP and Kafka (herald.tracing): what comes in is continued, what goes
out carries it, malformed context starts a new trace, and log lines carry the trace id."""

from __future__ import annotations

import json
import random
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from herald.cloudevents import decode, encode
from herald.content import PostContent
from herald.emitter import KafkaEmitter
from herald.events import PostSubmitted, SubmittedTarget
from herald.logging import configure_logging
from herald.service import add_operational_routes
from herald.settings import LogSettings
from herald.testkit.tracing import recorded_spans, trace_ids
from herald.topics import Platform
from herald.tracing import TraceContext, TracingTransport, consuming, exporting, span

pytestmark = pytest.mark.unit

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
SUBMITTED = PostSubmitted(
    business_id="b1",
    idempotency_key="k-1",
    content=PostContent(text="Hello"),
    targets=[SubmittedTarget(integration_id="i1", platform=Platform.FACEBOOK)],
)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"traceparent": PARENT, "tracestate": "a=1"}, TraceContext(PARENT, "a=1")),
        ({"ce_traceparent": PARENT, "ce_tracestate": "a=1"}, TraceContext(PARENT, "a=1")),
        ({"TraceParent": PARENT}, TraceContext(PARENT)),
        ({"traceparent": "00-nothex-00f067aa0ba902b7-01"}, None),
        ({"traceparent": f"00-{'0' * 32}-00f067aa0ba902b7-01"}, None),  # all-zero id: invalid
        ({}, None),
    ],
)
def test_context_is_read_from_w3c_headers_or_the_cloudevents_extension(
    headers: dict[str, str], expected: TraceContext | None
) -> None:
    assert TraceContext.from_headers(headers) == expected


def test_structured_mode_reads_the_extension_attributes() -> None:
    document = {
        "specversion": "1.0",
        "id": "e1",
        "source": "crm",
        "type": "herald.post.submitted.v1",
        "traceparent": PARENT,
        "data": SUBMITTED.model_dump(mode="json"),
    }
    headers = {"content-type": "application/cloudevents+json"}

    envelope = decode(json.dumps(document).encode(), headers, accept_structured=True)

    assert envelope.trace == TraceContext(PARENT)


async def test_a_consumed_event_is_continued_and_what_is_emitted_carries_the_trace() -> None:
    spans = recorded_spans()
    _, headers = encode(SUBMITTED, source="crm", trace=TraceContext(PARENT))
    sent: list[dict[str, str]] = []

    class Broker:  # what KafkaEmitter hands the record to (herald.producing.publish)
        config = SimpleNamespace(broker_config=SimpleNamespace(producer=None))

        async def publish(self, body: bytes, topic: str, **kwargs: Any) -> None:
            sent.append(kwargs["headers"])

    with consuming("ingest post.submitted", headers):
        emitter = KafkaEmitter(Broker(), source="herald/test")  # type: ignore[arg-type]  # only publish is used
        await emitter.emit(SUBMITTED, topic="t", key="k")

    [out] = sent
    carried = TraceContext.from_headers(out)
    assert carried is not None
    assert carried.trace_id == TRACE_ID
    assert out["ce_traceparent"] == out["traceparent"]
    assert out["traceparent"] != PARENT  # the child span's id, in the same trace
    [ingest] = spans.get_finished_spans()
    assert trace_ids([ingest]) == {TRACE_ID}
    assert ingest.parent is not None
    assert format(ingest.parent.span_id, "016x") == "00f067aa0ba902b7"


async def test_an_event_without_context_starts_a_trace_of_its_own() -> None:
    spans = recorded_spans()
    with span("outer"), consuming("consume", {}):
        here = TraceContext.current()
    assert here is not None
    outer, consume = sorted(spans.get_finished_spans(), key=lambda s: s.name, reverse=True)
    assert trace_ids([outer]) != trace_ids([consume])  # not a child of whatever ran around it


async def test_http_requests_continue_the_callers_trace_and_calls_out_carry_it() -> None:
    spans = recorded_spans()
    seen: list[str | None] = []

    def platform(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("traceparent"))
        return httpx.Response(200, json={"id": "1"})

    app = FastAPI()
    add_operational_routes(app, service="svc", checks={}, registry=CollectorRegistry())
    outbound = httpx.AsyncClient(transport=TracingTransport(httpx.MockTransport(platform)))

    @app.post("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        await outbound.post(f"https://graph.example/v1/{thing_id}?appsecret_proof=x")
        return {"id": thing_id}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        answer = await client.post("/v1/things/7", headers={"traceparent": PARENT})
        await client.get("/healthz", headers={"traceparent": PARENT})
    await outbound.aclose()

    assert answer.status_code == 200
    [sent] = seen
    assert sent is not None
    assert TraceContext(sent).trace_id == TRACE_ID
    by_name = {s.name: s for s in spans.get_finished_spans()}
    assert set(by_name) == {"POST /v1/things/{thing_id}", "HTTP POST graph.example"}
    assert trace_ids(list(by_name.values())) == {TRACE_ID}
    call = by_name["HTTP POST graph.example"]
    assert call.attributes is not None
    assert call.attributes["url.path"] == "/v1/7"  # never the query
    assert call.attributes["http.response.status_code"] == 200


def test_log_lines_inside_a_span_carry_its_trace_id(capsys: pytest.CaptureFixture[str]) -> None:
    recorded_spans()
    configure_logging(LogSettings(format="json"), service="svc")
    log = structlog.get_logger("t")
    with consuming("consume", {"traceparent": PARENT}):
        log.info("post.published")
    log.info("outside")

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    inside, outside = lines
    assert inside["trace_id"] == TRACE_ID
    assert len(inside["span_id"]) == 16
    assert "trace_id" not in outside


def test_spans_are_exported_only_when_an_otlp_endpoint_is_set() -> None:
    assert not exporting({})
    assert exporting({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert exporting({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"})


def test_spans_leave_the_random_module_alone() -> None:
    """Seeded code (chaos plans, Hypothesis) shares `random`'s state with the process."""
    recorded_spans()
    state = random.getstate()
    with span("x"), consuming("y", {}):
        pass
    assert random.getstate() == state
