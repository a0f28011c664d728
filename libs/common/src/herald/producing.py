"""Producing through a broker whose idempotent producer may have died, and bringing it back.

aiokafka's idempotent producer numbers each partition's batches. When the broker is away longer
than `request_timeout_ms` (a restart of a single broker, a long leader election), the batches in
flight expire and are failed to their callers, but their sequence numbers are spent: the next
batch arrives with a gap, the broker answers `OutOfOrderSequenceNumber`, and aiokafka's sender
task ends for good (Kafka's Java client bumps the producer epoch instead). From then on every
send of that process fails, forever: the fleet chaos run found a scheduler that could no longer
dispatch anything after a Kafka restart. `ProducerFenced` ends it the same way.

`publish` is the one way Herald's code produces through FastStream: on those errors it replaces
the broker's aiokafka producer with a new one (a new producer id, so numbering starts again) and
sends once more. Nothing is lost by that: a batch the broker refused as out of order was not
written, and every caller already treats a failed send as not sent. Concurrent sends that fail
together renew the producer once.

The replacement reaches into FastStream's broker config (`config.broker_config.producer`, the
connection kwargs the broker was built with); FastStream is pinned in uv.lock and
`test_producing_connected.py` shows the renewal against a real broker.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import aiokafka
import structlog
from aiokafka.errors import OutOfOrderSequenceNumber, ProducerFenced
from faststream._internal.parser import DefaultCodec
from faststream.kafka import KafkaBroker

log = structlog.get_logger(__name__)

DEAD_PRODUCER_ERRORS: tuple[type[BaseException], ...] = (OutOfOrderSequenceNumber, ProducerFenced)

_locks: weakref.WeakKeyDictionary[KafkaBroker, asyncio.Lock] = weakref.WeakKeyDictionary()
_renewals: weakref.WeakKeyDictionary[KafkaBroker, int] = weakref.WeakKeyDictionary()


def current_producer(broker: KafkaBroker) -> Any:
    """The aiokafka producer the broker sends with now, or None before it connected."""
    state = getattr(broker.config.broker_config.producer, "_producer", None)
    return getattr(state, "producer", None)


def renewals(broker: KafkaBroker) -> int:
    """How many times this broker's producer was replaced."""
    return _renewals.get(broker, 0)


async def renew_producer(broker: KafkaBroker, dead: Any) -> bool:
    """Replace the broker's producer if it is still `dead`; False if another caller did."""
    lock = _locks.setdefault(broker, asyncio.Lock())
    async with lock:
        if current_producer(broker) is not dead:
            return False
        config = broker.config.broker_config
        kwargs: dict[str, Any] = dict(broker._connection_kwargs)
        fast = config.producer
        try:
            await fast.disconnect()
        except Exception as exc:  # noqa: BLE001 - a dead producer may fail to stop; replace it anyway
            log.warning("kafka.producer_stop_failed", error=repr(exc))
        await fast.connect(
            aiokafka.AIOKafkaProducer(**kwargs),
            serializer=config.fd_config._serializer,
            codec=config.broker_codec or DefaultCodec(),
        )
        _renewals[broker] = _renewals.get(broker, 0) + 1
        return True


async def publish(
    broker: KafkaBroker,
    message: bytes,
    topic: str,
    *,
    key: bytes | None,
    headers: Mapping[str, str],
    lane: int | None = None,
) -> None:
    """`broker.publish`, acknowledged; a dead idempotent producer is replaced and the send made
    once more. `lane`: the partition is `lane` modulo the topic's partitions instead of the
    key's hash (`herald.emitter`)."""
    producer = current_producer(broker)
    try:
        partition = await _partition(producer, topic, lane)
        await broker.publish(message, topic, key=key, partition=partition, headers=dict(headers))
    except DEAD_PRODUCER_ERRORS as exc:
        renewed = await renew_producer(broker, producer)
        log.warning("kafka.producer_renewed", error=repr(exc), topic=topic, by_this_send=renewed)
        partition = await _partition(current_producer(broker), topic, lane)
        await broker.publish(message, topic, key=key, partition=partition, headers=dict(headers))


async def _partition(producer: Any, topic: str, lane: int | None) -> int | None:
    if lane is None or producer is None:
        return None  # the key's hash places it (Kafka's default partitioner)
    partitions = sorted(await producer.partitions_for(topic))
    return int(partitions[lane % len(partitions)])


async def publish_all(
    broker: KafkaBroker, messages: Sequence[tuple[bytes, str, bytes | None, Mapping[str, str]]]
) -> None:
    """Several sends (body, topic, key, headers), appended to the producer in this order and
    acknowledged together: one round trip to the broker where `publish` takes one each. A dead
    idempotent producer is replaced and every one of them sent again (at least once)."""
    producer = current_producer(broker)
    try:
        await _send_all(broker, messages)
    except DEAD_PRODUCER_ERRORS as exc:
        renewed = await renew_producer(broker, producer)
        log.warning(
            "kafka.producer_renewed", error=repr(exc), sends=len(messages), by_this_send=renewed
        )
        await _send_all(broker, messages)


async def _send_all(
    broker: KafkaBroker, messages: Sequence[tuple[bytes, str, bytes | None, Mapping[str, str]]]
) -> None:
    acks = [
        await broker.publish(body, topic, key=key, headers=dict(headers), no_confirm=True)
        for body, topic, key, headers in messages  # in order: each is appended before the next
    ]
    await asyncio.gather(*acks)
