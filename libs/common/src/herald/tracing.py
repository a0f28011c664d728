"""Traces: W3C trace context through HTTP and Kafka, a span for each piece of Herald's work, and
the trace id on every log line written inside one (docs/adr/0015-operations-metrics-dashboards-
traces.md).

- Incoming HTTP: `TracingMiddleware` continues the caller's `traceparent`/`tracestate` (or starts
  a trace) in a server span named after the route template.
- Kafka: an event carries its trace context twice, as the W3C headers `traceparent`/`tracestate`
  (what OpenTelemetry's Kafka instrumentations read and write) and as `ce_traceparent`/
  `ce_tracestate` (the CloudEvents distributed-tracing extension in the Kafka binding). A consumer
  takes either (`TraceContext.from_headers`); `herald.emitter` writes both for the current span.
- Outbound HTTP: `TracingTransport` wraps an httpx transport in a client span and sends the
  headers along (auth-service, the platforms).
- The scheduler stores a post's context with the post, so its dispatch, minutes or days later,
  continues the trace of the request or event that submitted it.

`configure_tracing` (called by `herald.service.run_service`) installs OpenTelemetry's SDK in every
process, so trace ids exist and propagate whatever the deployment; spans leave the process only
when OTLP is configured the standard way, `OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (OTLP over HTTP). `OTEL_SDK_DISABLED=true` turns the SDK off:
incoming context is then still passed on, but no new trace starts.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from structlog.typing import EventDict, WrappedLogger

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
CE_TRACEPARENT = "ce_traceparent"
CE_TRACESTATE = "ce_tracestate"
OPERATIONAL_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
EXPORT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")

_propagator = TraceContextTextMapPropagator()
_tracer = trace.get_tracer("herald")


class SystemIdGenerator(IdGenerator):
    """Trace and span ids from `os.urandom`. OpenTelemetry's default draws on the global `random`,
    which a seeded test (or hypothesis, which forbids its use inside strategies: schemathesis'
    live servers) would disturb and which seeding would make predictable."""

    def generate_span_id(self) -> int:
        return int.from_bytes(os.urandom(8), "big") or 1  # 0 is the invalid span id

    def generate_trace_id(self) -> int:
        return int.from_bytes(os.urandom(16), "big") or 1  # 0 is the invalid trace id


def exporting(environ: Mapping[str, str] | None = None) -> bool:
    """Whether spans are exported over OTLP: an OTLP endpoint is configured."""
    env = os.environ if environ is None else environ
    return any(env.get(name) for name in EXPORT_VARIABLES)


def configure_tracing(service: str, environ: Mapping[str, str] | None = None) -> None:
    """Install this process's tracer provider (once, at start): spans always, exported over
    OTLP/HTTP only when `exporting`."""
    env = os.environ if environ is None else environ
    if env.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return  # installed already (a test hosting services in-process)
    provider = TracerProvider(
        resource=Resource.create({"service.name": service}), id_generator=SystemIdGenerator()
    )
    if exporting(env):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter,  # only loaded where it is used
        )

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


@dataclass(frozen=True)
class TraceContext:
    """A W3C trace context (`traceparent`, and `tracestate` when there is one), validated."""

    traceparent: str
    tracestate: str | None = None

    @classmethod
    def current(cls) -> TraceContext | None:
        """The context of the current span, or None outside any trace."""
        carrier: dict[str, str] = {}
        _propagator.inject(carrier)
        return cls._of(carrier)

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> TraceContext | None:
        """The context a message or request carries: the W3C headers, else the CloudEvents
        extension's; None when absent or malformed (a bad one starts a new trace)."""
        lowered = {k.lower(): v for k, v in headers.items()}
        for parent, state in ((TRACEPARENT, TRACESTATE), (CE_TRACEPARENT, CE_TRACESTATE)):
            if lowered.get(parent):
                carrier = {TRACEPARENT: lowered[parent]}
                if lowered.get(state):
                    carrier[TRACESTATE] = lowered[state]
                return cls.parse(carrier)
        return None

    @classmethod
    def parse(cls, carrier: Mapping[str, str]) -> TraceContext | None:
        """Validate and normalise through the propagator: only a context it accepts is kept."""
        span = trace.get_current_span(_propagator.extract(carrier))
        if not span.get_span_context().is_valid:
            return None
        out: dict[str, str] = {}
        _propagator.inject(out, context=trace.set_span_in_context(span))
        return cls._of(out)

    @classmethod
    def _of(cls, carrier: Mapping[str, str]) -> TraceContext | None:
        parent = carrier.get(TRACEPARENT)
        return cls(parent, carrier.get(TRACESTATE) or None) if parent else None

    @property
    def trace_id(self) -> str:
        return self.traceparent.split("-")[1]

    def context(self) -> otel_context.Context:
        carrier = {TRACEPARENT: self.traceparent}
        if self.tracestate:
            carrier[TRACESTATE] = self.tracestate
        return _propagator.extract(carrier)

    def http_headers(self) -> dict[str, str]:
        headers = {TRACEPARENT: self.traceparent}
        if self.tracestate:
            headers[TRACESTATE] = self.tracestate
        return headers

    def event_headers(self) -> dict[str, str]:
        """Kafka headers: the W3C pair and the CloudEvents extension's."""
        headers = self.http_headers()
        headers[CE_TRACEPARENT] = self.traceparent
        if self.tracestate:
            headers[CE_TRACESTATE] = self.tracestate
        return headers

    def document(self) -> dict[str, str | None]:
        return {TRACEPARENT: self.traceparent, TRACESTATE: self.tracestate}

    @classmethod
    def from_document(cls, doc: Mapping[str, Any] | None) -> TraceContext | None:
        if not doc or not doc.get(TRACEPARENT):
            return None
        return cls(str(doc[TRACEPARENT]), doc.get(TRACESTATE) or None)


@contextlib.contextmanager
def span(
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    parent: TraceContext | None = None,
    new_trace: bool = False,
    attributes: Mapping[str, str | int] | None = None,
) -> Iterator[Span]:
    """A span around a piece of work, current while the block runs (log lines inside carry its
    trace id). Its parent is `parent`, else the current span; `new_trace` makes a span with no
    `parent` a root instead (work that arrived from outside without a context)."""
    if parent is not None:
        context: otel_context.Context | None = parent.context()
    else:
        context = otel_context.Context() if new_trace else None
    with _tracer.start_as_current_span(
        name, context=context, kind=kind, attributes=dict(attributes or {})
    ) as current:
        yield current


def consuming(name: str, headers: Mapping[str, str], **attributes: str | int) -> Any:
    """The span of handling one Kafka message: a child of the context it carries."""
    parent = TraceContext.from_headers(headers)
    return span(name, kind=SpanKind.CONSUMER, parent=parent, new_trace=True, attributes=attributes)


def producing(name: str, parent: TraceContext | None, **attributes: str | int) -> Any:
    """The span of producing work for others (a dispatch), continuing `parent`'s trace (or
    starting one)."""
    return span(name, kind=SpanKind.PRODUCER, parent=parent, new_trace=True, attributes=attributes)


def add_trace_ids(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: the current span's `trace_id` and `span_id` on the line."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict


class TracingMiddleware:
    """A server span per HTTP request (not the operational routes), continuing the caller's
    trace context; named `METHOD /route/{template}` once routing is done. A plain ASGI
    middleware, as `herald.bodylimits`, so it costs no extra task per request."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in OPERATIONAL_PATHS:
            await self._app(scope, receive, send)
            return
        wanted = {TRACEPARENT.encode(), TRACESTATE.encode()}
        headers = {
            k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"] if k in wanted
        }
        method = str(scope.get("method", "GET"))
        status = 500
        with span(
            method,
            kind=SpanKind.SERVER,
            parent=TraceContext.from_headers(headers),
            new_trace=True,
            attributes={"http.request.method": method},
        ) as current:

            async def sending(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            try:
                await self._app(scope, receive, sending)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if route:
                    current.update_name(f"{method} {route}")
                    current.set_attribute("http.route", route)
                current.set_attribute("http.response.status_code", status)
                if status >= 500:
                    current.set_status(Status(StatusCode.ERROR))


class TracingTransport(httpx.AsyncBaseTransport):
    """An httpx transport in a client span, sending the trace context along. The span records
    method, host and path (never the query, where a platform may put a proof of a token)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attributes: dict[str, str | int] = {
            "http.request.method": request.method,
            "server.address": request.url.host,
            "url.path": request.url.path,
        }
        name = f"HTTP {request.method} {request.url.host}"
        with span(name, kind=SpanKind.CLIENT, attributes=attributes) as current:
            here = TraceContext.current()
            if here is not None:
                request.headers.update(here.http_headers())
            response = await self._inner.handle_async_request(request)
            current.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                current.set_status(Status(StatusCode.ERROR))
            return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def traced_transport(inner: httpx.AsyncBaseTransport | None = None) -> TracingTransport:
    """`inner` (httpx's default transport when None) in a `TracingTransport`: for clients
    built outside `herald.http.new_http_client`."""
    return TracingTransport(inner or httpx.AsyncHTTPTransport())
