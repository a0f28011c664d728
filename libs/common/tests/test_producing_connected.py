"""A dead idempotent producer is replaced and the send made again, against the real broker.

The death is staged: the broker's aiokafka producer answers `OutOfOrderSequenceNumber` as
aiokafka does for every send once its sender has died on a sequence gap (what a Kafka restart
longer than `request_timeout_ms` leaves behind; the fleet chaos run restarts Kafka for real).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.errors import OutOfOrderSequenceNumber
from aiokafka.partitioner import DefaultPartitioner

from herald.emitter import KafkaEmitter, Outgoing
from herald.events import PostPublished
from herald.kafka import new_broker, start_broker
from herald.producing import current_producer, publish, renewals
from herald.settings import KafkaSettings
from herald.topics import Platform
from herald_localstack.pytest_plugin import InfraEndpoints, NewTopicFactory

pytestmark = pytest.mark.connected


def _kill(producer: Any) -> None:
    async def dead(*args: Any, **kwargs: Any) -> Any:
        del args, kwargs
        raise OutOfOrderSequenceNumber

    producer.send = dead


async def _read(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(values) < count:
                batch = await consumer.getmany(timeout_ms=500)
                values += [r.value or b"" for records in batch.values() for r in records]
    finally:
        await consumer.stop()
    return values


async def test_concurrent_sends_on_a_dead_producer_renew_it_once_and_all_land(
    infra: InfraEndpoints, new_topic: NewTopicFactory
) -> None:
    topic = await new_topic(partitions=2)
    settings = KafkaSettings(bootstrap_servers=infra.kafka_bootstrap)
    broker = new_broker(settings, client_id="test-renewal")
    await start_broker(broker, settings)
    try:
        dead = current_producer(broker)
        _kill(dead)
        sends = [
            publish(broker, f"m{n}".encode(), topic, key=f"k{n}".encode(), headers={})
            for n in range(10)
        ]
        await asyncio.gather(*sends)
        assert current_producer(broker) is not dead
        assert renewals(broker) == 1
        await publish(broker, b"after", topic, key=b"k", headers={})  # the new one goes on
    finally:
        await broker.stop()

    landed = await _read(infra.kafka_bootstrap, topic, 11)
    assert sorted(landed) == sorted([f"m{n}".encode() for n in range(10)] + [b"after"])


async def test_the_emitter_survives_a_dead_producer(
    infra: InfraEndpoints, new_topic: NewTopicFactory
) -> None:
    topic = await new_topic(partitions=1)
    settings = KafkaSettings(bootstrap_servers=infra.kafka_bootstrap)
    broker = new_broker(settings, client_id="test-renewal-emitter")
    await start_broker(broker, settings)
    event = PostPublished(
        post_id="p1",
        target_id="p1-0",
        business_id="b1",
        integration_id="i1",
        platform=Platform.FACEBOOK,
        attempt=1,
        published_at=datetime.now(UTC),
    )
    try:
        _kill(current_producer(broker))
        await KafkaEmitter(broker, source="test").emit(event, topic=topic, key="k")
        assert renewals(broker) == 1
    finally:
        await broker.stop()
    assert len(await _read(infra.kafka_bootstrap, topic, 1)) == 1


async def test_a_lane_places_sends_on_its_partition_whatever_the_key(
    infra: InfraEndpoints, new_topic: NewTopicFactory
) -> None:
    """Lanes 0..7 on a 4-partition topic: each lands on `lane % 4`, the key's hash aside; no
    lane leaves the key's hash to place it (Kafka's default partitioner)."""
    topic = await new_topic(partitions=4)
    settings = KafkaSettings(bootstrap_servers=infra.kafka_bootstrap)
    broker = new_broker(settings, client_id="test-lanes")
    await start_broker(broker, settings)
    try:
        for lane in range(8):
            await publish(
                broker, f"lane{lane}".encode(), topic, key=b"one-key", headers={}, lane=lane
            )
        await publish(broker, b"hashed", topic, key=b"one-key", headers={})
    finally:
        await broker.stop()

    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=infra.kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    placed: dict[bytes, int] = {}
    try:
        async with asyncio.timeout(30):
            while len(placed) < 9:
                batch = await consumer.getmany(timeout_ms=500)
                placed |= {r.value or b"": tp.partition for tp, rs in batch.items() for r in rs}
    finally:
        await consumer.stop()
    assert {placed[f"lane{lane}".encode()] for lane in range(8)} == {0, 1, 2, 3}
    assert all(placed[f"lane{lane}".encode()] == lane % 4 for lane in range(8))
    hashed = DefaultPartitioner()(b"one-key", [0, 1, 2, 3], [0, 1, 2, 3])
    assert placed[b"hashed"] == hashed


async def test_emit_all_lands_every_event_in_order_and_survives_a_dead_producer(
    infra: InfraEndpoints, new_topic: NewTopicFactory
) -> None:
    """Notices of one result go out together (`emit_all`): in the order given, on one
    partition, and sent again whole by a renewed producer."""
    topic = await new_topic(partitions=1)
    settings = KafkaSettings(bootstrap_servers=infra.kafka_bootstrap)
    broker = new_broker(settings, client_id="test-emit-all")
    await start_broker(broker, settings)
    events = [
        PostPublished(
            post_id=f"p{n}",
            target_id=f"p{n}-0",
            business_id="b1",
            integration_id="i1",
            platform=Platform.FACEBOOK,
            attempt=1,
            published_at=datetime.now(UTC),
        )
        for n in range(5)
    ]
    emitter = KafkaEmitter(broker, source="test")
    try:
        await emitter.emit_all([Outgoing(e, topic=topic, key="b1") for e in events[:3]])
        _kill(current_producer(broker))
        await emitter.emit_all([Outgoing(e, topic=topic, key="b1") for e in events[3:]])
        assert renewals(broker) == 1
    finally:
        await broker.stop()
    landed = [json.loads(v)["post_id"] for v in await _read(infra.kafka_bootstrap, topic, 5)]
    assert landed == [f"p{n}" for n in range(5)]
