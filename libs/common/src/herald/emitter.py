"""Producing Herald events: CloudEvents binary mode, keyed, acknowledged by the broker.

`EventEmitter` is the port handlers see; `KafkaEmitter` is the adapter; tests use
`herald.testing.RecordingEmitter`. A call returns only after the broker acknowledged the write
(acks=all, idempotent producer), so a caller may then commit its own progress. An event carries
the trace context of the span it is emitted in.

The key places an event: Kafka's default partitioner hashes it, so one key's events keep their
order on one partition. A `lane` places it instead at `lane` modulo the topic's partitions: the
scheduler gives each integration a lane once (ADR 0025), so a business's accounts fill distinct
partitions where their hashes would share some, and each still keeps its order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from faststream.kafka import KafkaBroker

from herald.cloudevents import encode
from herald.events import Event
from herald.producing import publish, publish_all
from herald.tracing import TraceContext


@dataclass(frozen=True)
class Outgoing:
    """One event of `emit_all`, with where it goes (placed by its key)."""

    event: Event
    topic: str
    key: str
    headers: Mapping[str, str] | None = None


class EventEmitter(Protocol):
    async def emit(
        self,
        event: Event,
        *,
        topic: str,
        key: str,
        headers: Mapping[str, str] | None = None,
        lane: int | None = None,
    ) -> None: ...

    async def emit_all(self, outgoing: Sequence[Outgoing]) -> None:
        """Several events in this order, acknowledged together (one round trip)."""
        ...


class KafkaEmitter:
    def __init__(self, broker: KafkaBroker, *, source: str) -> None:
        self._broker = broker
        self._source = source

    async def emit(
        self,
        event: Event,
        *,
        topic: str,
        key: str,
        headers: Mapping[str, str] | None = None,
        lane: int | None = None,
    ) -> None:
        trace = TraceContext.current()  # the work this event comes out of (herald.tracing)
        body, ce_headers = encode(event, source=self._source, trace=trace, extra_headers=headers)
        await publish(self._broker, body, topic, key=key.encode(), headers=ce_headers, lane=lane)

    async def emit_all(self, outgoing: Sequence[Outgoing]) -> None:
        trace = TraceContext.current()
        messages = []
        for out in outgoing:
            body, ce_headers = encode(
                out.event, source=self._source, trace=trace, extra_headers=out.headers
            )
            messages.append((body, out.topic, out.key.encode(), ce_headers))
        await publish_all(self._broker, messages)
