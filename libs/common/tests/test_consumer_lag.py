"""`herald_kafka_consumer_lag`: log end minus position for each partition this process's
consumers own, one series per group, topic and partition; revoked partitions disappear."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from aiokafka import TopicPartition
from prometheus_client import CollectorRegistry

from herald.metrics import ConsumerLag

pytestmark = pytest.mark.unit


@dataclass
class Consumer:
    """What ConsumerLag reads of an aiokafka consumer."""

    high: dict[TopicPartition, int | None]
    at: dict[TopicPartition, int] = field(default_factory=dict)

    def assignment(self) -> set[TopicPartition]:
        return set(self.high)

    def highwater(self, partition: TopicPartition) -> int | None:
        return self.high[partition]

    async def position(self, partition: TopicPartition) -> int:
        if partition not in self.at:
            msg = "partition is not assigned"
            raise RuntimeError(msg)
        return self.at[partition]


@dataclass
class Subscriber:
    group_id: str
    consumer: Consumer | None = None
    consumer_subgroup: list[Consumer] = field(default_factory=list)


@dataclass
class Broker:
    subscribers: list[Subscriber]


A0, A1, B0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)


async def test_lag_per_group_topic_and_partition() -> None:
    registry = CollectorRegistry()
    workers = [Consumer({A0: 10}, {A0: 4}), Consumer({A1: 7, B0: None}, {A1: 7})]
    tier = Consumer({B0: 30}, {})  # its position is being reset: reported next round
    broker = Broker([Subscriber("g", consumer_subgroup=workers), Subscriber("g.t", tier)])
    lag = ConsumerLag(broker, registry)

    await lag.refresh()

    def value(group: str, topic: str, partition: str) -> float | None:
        labels = {"group": group, "topic": topic, "partition": partition}
        return registry.get_sample_value("herald_kafka_consumer_lag", labels)

    assert value("g", "a", "0") == 6
    assert value("g", "a", "1") == 0
    assert value("g", "b", "0") is None  # nothing fetched yet
    assert value("g.t", "b", "0") is None

    workers[0].high.clear()  # revoked in a rebalance
    await lag.refresh()
    assert value("g", "a", "0") is None
    assert value("g", "a", "1") == 0
