"""`herald_kafka_topic_messages`: what a dead-letter topic holds, over all its partitions, read
on the real broker by a client of its own (no group, nothing subscribed)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry

from herald.testkit import producer
from herald.topicsizes import TopicSizes
from herald_localstack.pytest_plugin import InfraEndpoints, NewTopicFactory

pytestmark = pytest.mark.connected


async def test_a_topics_size_counts_every_partition(
    infra: InfraEndpoints, new_topic: NewTopicFactory
) -> None:
    topic = await new_topic(partitions=2, prefix="test.dlq")
    async with producer(infra.kafka_bootstrap) as client:
        for n in range(5):
            await client.send_and_wait(topic, b"dead", partition=n % 2)
    registry = CollectorRegistry()
    sizes = TopicSizes(infra.kafka_bootstrap, [topic], registry)
    reader = AIOKafkaConsumer(bootstrap_servers=infra.kafka_bootstrap, group_id=None)
    await reader.start()
    try:
        await sizes.refresh(reader)  # a topic it has no metadata for yet: learnt on the way
    finally:
        await reader.stop()
    assert registry.get_sample_value("herald_kafka_topic_messages", {"topic": topic}) == 5

    running = asyncio.create_task(sizes.run(every_s=0.2))  # its own client, started and stopped
    try:
        async with producer(infra.kafka_bootstrap) as client:
            await client.send_and_wait(topic, b"dead", partition=1)
        for _ in range(100):
            if registry.get_sample_value("herald_kafka_topic_messages", {"topic": topic}) == 6:
                break
            await asyncio.sleep(0.1)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
    assert registry.get_sample_value("herald_kafka_topic_messages", {"topic": topic}) == 6
