"""The Kafka broker and MongoDB client a service holds, started and stopped as one.

Every service that talks to both builds one `Infra` in `create_app` and drives it from its
lifespan; its readiness checks come from here, so `/readyz` means the same thing everywhere.
With a metrics registry it also reports its consumers' lag there (`herald.metrics.ConsumerLag`),
and the size of the dead-letter topics among its own (`herald.topicsizes.TopicSizes`), refreshed
while the broker runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

import structlog
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from herald.kafka import check_broker, new_broker, start_broker
from herald.metrics import ConsumerLag, stop
from herald.mongo import Document, check_mongo, new_mongo_client, wait_for_mongo
from herald.service import ReadinessCheck
from herald.settings import KafkaSettings, MongoSettings
from herald.topicsizes import TopicSizes

log = structlog.get_logger(__name__)
# Beyond the handlers' graceful timeout: leaving the consumer groups and flushing the producer.
LEAVE_GROUPS_S = 15.0


@dataclass
class Infra:
    broker: KafkaBroker
    mongo: AsyncMongoClient[Document]
    kafka_settings: KafkaSettings
    mongo_settings: MongoSettings
    topics: tuple[str, ...] = ()  # the service's own: waited for before consuming
    lag: ConsumerLag | None = None
    sizes: TopicSizes | None = None
    _lag_task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)
    _sizes_task: asyncio.Task[None] | None = field(default=None, init=False, repr=False)

    @classmethod
    def build(
        cls,
        *,
        kafka: KafkaSettings,
        mongo: MongoSettings,
        client_id: str,
        broker: KafkaBroker | None = None,
        mongo_client: AsyncMongoClient[Document] | None = None,
        registry: CollectorRegistry | None = None,
        topics: Iterable[str] = (),
    ) -> Infra:
        """Create (without connecting) the broker and client, unless a test passes its own.

        With a `registry`, the client exports its commands' durations there. `topics` (from
        `TopicNames.for_service`) must all exist before the broker starts.
        """
        broker = broker or new_broker(kafka, client_id=client_id)
        topics = tuple(topics)
        dead_letters = [t for t in topics if t.endswith(".dlq")]
        return cls(
            broker=broker,
            mongo=mongo_client or new_mongo_client(mongo, app_name=client_id, registry=registry),
            kafka_settings=kafka,
            mongo_settings=mongo,
            topics=topics,
            lag=ConsumerLag(broker, registry) if registry is not None else None,
            sizes=(
                TopicSizes(kafka.bootstrap_servers, dead_letters, registry)
                if registry is not None and dead_letters
                else None
            ),
        )

    async def start(self) -> None:
        """Wait for MongoDB, then for the topics, then start the broker (consuming begins)."""
        await self.start_mongo()
        await self.start_broker()

    async def start_mongo(self) -> None:
        await wait_for_mongo(self.mongo, self.mongo_settings)

    async def start_broker(self) -> None:
        await start_broker(self.broker, self.kafka_settings, self.topics)
        if self.lag is not None:
            self._lag_task = asyncio.create_task(self.lag.run(), name="consumer_lag")
        if self.sizes is not None:
            self._sizes_task = asyncio.create_task(self.sizes.run(), name="topic_sizes")

    async def stop_broker(self, leave_groups_s: float = LEAVE_GROUPS_S) -> None:
        """Stop consuming and producing, within a bound. A consumer caught in a group rebalance
        waits for the group's other members (a member that died without leaving stays until its
        session times out) before it can leave; shutdown does not wait for that: past the
        bound the service stops anyway and the broker drops the member when its session ends.
        Offsets not committed are delivered again (the handlers are idempotent)."""
        await stop(self._lag_task)
        await stop(self._sizes_task)
        self._lag_task = self._sizes_task = None
        bound = self.kafka_settings.graceful_timeout_s + leave_groups_s
        try:
            await asyncio.wait_for(self.broker.stop(), timeout=bound)
        except TimeoutError:
            log.warning("kafka.stop_timed_out", after_s=bound)

    async def stop(self) -> None:
        """Stop consuming and producing first, then close the database client."""
        await self.stop_broker()
        await self.mongo.close()

    def checks(self) -> dict[str, ReadinessCheck]:
        return {
            "kafka": partial(check_broker, self.broker),
            "mongo": partial(check_mongo, self.mongo),
        }
