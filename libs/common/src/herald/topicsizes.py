"""`herald_kafka_topic_messages{topic}`: how many messages a dead-letter topic holds (its log end
offset minus its log start offset, summed over partitions), reported by the publisher that writes
to it (ADR 0015). A replay copies dead letters back and leaves them in place (herald.replay), so
the figure falls only as retention deletes them; `herald_dead_letters_total` counts new arrivals.

Its own consumer, outside any group and subscribed to nothing, asks the partitions' leaders for
their offsets: a service's consuming clients are left alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Sequence

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = structlog.get_logger(__name__)

NAME = "herald_kafka_topic_messages"
HELP = (
    "Messages a topic holds (log end offset minus log start offset over its partitions), for "
    "the dead-letter topics a publisher writes."
)
REFRESH_S = 15.0
ASK_TIMEOUT_S = 10.0


class TopicSizes(Collector):
    """The sizes of `topics`, refreshed by `run` while the service runs."""

    def __init__(
        self, bootstrap: str, topics: Sequence[str], registry: CollectorRegistry | None = None
    ) -> None:
        self._bootstrap = bootstrap
        self.topics = tuple(topics)
        self._sizes: dict[str, int] = {}
        if registry is not None:
            registry.register(self)

    def describe(self) -> Iterable[Metric]:
        return [GaugeMetricFamily(NAME, HELP, labels=["topic"])]

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(NAME, HELP, labels=["topic"])
        for topic, size in sorted(self._sizes.items()):
            family.add_metric([topic], size)
        yield family

    async def refresh(self, client: AIOKafkaConsumer) -> None:
        sizes: dict[str, int] = {}
        for topic in self.topics:
            partitions = client.partitions_for_topic(topic)
            if partitions is None:  # asking for partition 0 brings the topic's metadata
                await client.beginning_offsets([TopicPartition(topic, 0)])
                partitions = client.partitions_for_topic(topic) or {0}
            held = [TopicPartition(topic, p) for p in sorted(partitions)]
            start = await client.beginning_offsets(held)
            end = await client.end_offsets(held)
            sizes[topic] = sum(max(end[tp] - start[tp], 0) for tp in held)
        self._sizes = sizes

    async def run(self, every_s: float = REFRESH_S) -> None:
        if not self.topics:
            return
        client = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            enable_auto_commit=False,
            request_timeout_ms=int(ASK_TIMEOUT_S * 1000),
        )
        await client.start()
        try:
            while True:
                try:
                    await asyncio.wait_for(self.refresh(client), ASK_TIMEOUT_S)
                except Exception:  # noqa: BLE001 - a broker in flux: keep the last figures
                    log.warning("topic_sizes.refresh_failed", topics=list(self.topics))
                await asyncio.sleep(every_s)
        finally:
            await client.stop()
