"""Helpers for Herald's tests, shipped with herald-common so that every service's tests (and the
benchmarks) share one copy; they import only what herald-common declares.

This module holds the Kafka side: isolated topics, produce requests, collect what comes out of a
topic, run an app's lifespan. `herald.testkit.servers` serves apps over real HTTP,
`herald.testkit.apps` probes a service's operational routes and `herald.testkit.layering` checks
that a service's inner modules import no framework or driver."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI

from herald.cloudevents import decode, encode
from herald.content import FacebookOptions, PostContent
from herald.errors import InvalidEvent
from herald.events import Event, PostRequested
from herald.kafka import provision_topics
from herald.topics import Platform, TopicSpec


def post_requested(
    target_id: str, *, integration_id: str = "i1", text: str = "hello"
) -> PostRequested:
    now = datetime.now(UTC)
    return PostRequested(
        post_id=f"post-{target_id}",
        target_id=target_id,
        business_id="b1",
        integration_id=integration_id,
        platform=Platform.FACEBOOK,
        content=PostContent(text=text),
        options=FacebookOptions(),
        due_at=now,
        requested_at=now,
    )


@dataclass
class Received:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: dict[str, str]
    at: datetime
    event: Event | None


@dataclass
class Collector:
    """Everything that arrives on some topics from their beginning, decoded when possible."""

    bootstrap: str
    topics: list[str]
    received: list[Received] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Collector:
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        self._task = asyncio.create_task(self._run(consumer))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        try:
            async for record in consumer:
                headers = {k: v.decode("utf-8", "replace") for k, v in record.headers}
                try:
                    event: Event | None = decode(record.value or b"", headers).event
                except InvalidEvent:
                    event = None
                self.received.append(
                    Received(
                        record.topic,
                        record.partition,
                        record.offset,
                        record.key,
                        record.value,
                        headers,
                        datetime.now(UTC),
                        event,
                    )
                )
        finally:
            await consumer.stop()

    def events(self, cls: type[Event], topic: str | None = None) -> list[Any]:
        return [
            r.event
            for r in self.received
            if isinstance(r.event, cls) and (topic is None or r.topic == topic)
        ]

    def on(self, topic: str) -> list[Received]:
        return [r for r in self.received if r.topic == topic]

    async def wait_for(
        self, predicate: Callable[[Collector], bool], timeout_s: float = 30.0
    ) -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate(self):
            if time.monotonic() > deadline:
                msg = (
                    f"condition not met within {timeout_s}s; received {len(self.received)} records"
                )
                raise TimeoutError(msg)
            await asyncio.sleep(0.05)


@asynccontextmanager
async def producer(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    client = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await client.start()
    try:
        yield client
    finally:
        await client.stop()


async def send_event(
    client: AIOKafkaProducer, topic: str, event: Event, *, key: str, partition: int | None = None
) -> None:
    body, headers = encode(event, source="herald/test")
    await client.send_and_wait(
        topic,
        body,
        key=key.encode(),
        partition=partition,
        headers=[(k, v.encode()) for k, v in headers.items()],
    )


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """Run an app's lifespan (consumers included) for the duration of the block."""
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def isolated_topics(bootstrap: str, plan: Sequence[TopicSpec]) -> AsyncIterator[None]:
    """The topics of `plan` (under a prefix of the test's own) for the block, deleted after."""
    await provision_topics(bootstrap, plan)
    try:
        yield
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([spec.name for spec in plan])
        finally:
            await admin.close()
