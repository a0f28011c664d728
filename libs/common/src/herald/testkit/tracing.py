"""Spans recorded in memory, for tests that prove a trace (herald.tracing).

OpenTelemetry takes one tracer provider per process; `recorded_spans` installs an SDK provider
with an in-memory exporter the first time (or adds the exporter to the SDK provider a service's
start-up installed) and hands back the exporter, emptied.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from herald.tracing import SystemIdGenerator

_exporter: InMemorySpanExporter | None = None


def recorded_spans() -> InMemorySpanExporter:
    """The process's in-memory span exporter, cleared: every span that ends from now on."""
    global _exporter  # noqa: PLW0603 - one exporter for the one provider of the process
    if _exporter is None:
        _exporter = InMemorySpanExporter()
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider(id_generator=SystemIdGenerator())
            trace.set_tracer_provider(provider)
        provider.add_span_processor(SimpleSpanProcessor(_exporter))
    _exporter.clear()
    return _exporter


def trace_ids(spans: tuple[ReadableSpan, ...] | list[ReadableSpan]) -> set[str]:
    return {format(s.context.trace_id, "032x") for s in spans if s.context is not None}
