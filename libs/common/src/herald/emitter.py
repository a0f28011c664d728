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

from collections.abc import Mapping
from typing import Protocol

from faststream.kafka import KafkaBroker

from herald.cloudevents import encode
from herald.events import Event
from herald.producing import publish
from herald.tracing import TraceContext


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
