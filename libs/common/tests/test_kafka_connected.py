"""FastStream on the real broker: produce and consume across two partitions of one topic."""

from __future__ import annotations

import asyncio
import re

import pytest
from faststream.kafka import KafkaMessage

from herald.kafka import new_broker, start_broker
from herald.settings import KafkaSettings
from herald_localstack.pytest_plugin import InfraEndpoints, NewTopicFactory

pytestmark = pytest.mark.connected


async def test_round_trip_across_two_partitions(
    infra: InfraEndpoints, new_topic: NewTopicFactory
) -> None:
    topic = await new_topic(partitions=2)
    settings = KafkaSettings(bootstrap_servers=infra.kafka_bootstrap)
    broker = new_broker(settings, client_id="test-round-trip")
    received: dict[int, list[str]] = {0: [], 1: []}
    all_in = asyncio.Event()

    @broker.subscriber(topic, group_id=f"{topic}.g", auto_offset_reset="earliest")
    async def on_message(body: dict[str, str], msg: KafkaMessage) -> None:
        record = msg.raw_message
        assert not isinstance(record, tuple)  # a single-message subscriber, not a batch
        received[record.partition].append(body["n"])
        if sum(len(v) for v in received.values()) == 6:
            all_in.set()

    await start_broker(broker, settings)
    try:
        for n in range(6):
            await broker.publish({"n": str(n)}, topic, key=f"k{n}".encode(), partition=n % 2)
        await asyncio.wait_for(all_in.wait(), timeout=30)
    finally:
        await broker.stop()

    assert received == {0: ["0", "2", "4"], 1: ["1", "3", "5"]}


async def test_a_missing_topic_is_waited_for_then_named(
    infra: InfraEndpoints, new_topic: NewTopicFactory
) -> None:
    there = await new_topic(partitions=1)
    absent = f"{there}.never-provisioned"
    settings = KafkaSettings(bootstrap_servers=infra.kafka_bootstrap, startup_timeout_s=1.5)
    broker = new_broker(settings, client_id="test-missing-topic")
    with pytest.raises(ConnectionError, match=rf"lacks topic\(s\) {re.escape(absent)} after"):
        await start_broker(broker, settings, [there, absent])

    await start_broker(broker, settings, [there])  # all there: it starts at once
    await broker.stop()
