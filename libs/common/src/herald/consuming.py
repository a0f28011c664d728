"""Pieces every Herald consumer uses to be safe with FastStream on aiokafka.

- `tolerant_parser`: FastStream's parser fails on a header value that is not UTF-8; this one
  replaces such values and names them in `x-herald-invalid-headers`, so the message reaches the
  handler (and from there the dead-letter topic or a rejection) instead of being skipped.
- `commit`: commits exactly one record's offset (+1), not every consumed position.
- `Pauser`: pauses a partition, rewinds it to a record and resumes it at a given time, so a
  handler never sleeps: used for delay tiers and to put a message back after an unexpected error.

Subscribers that use these take `ack_policy=AckPolicy.MANUAL` and commit themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError
from faststream.kafka import KafkaMessage
from faststream.message import StreamMessage

log = structlog.get_logger(__name__)

INVALID_HEADERS = "x-herald-invalid-headers"


async def tolerant_parser(
    record: Any, original: Callable[[Any], Awaitable[StreamMessage[Any]]]
) -> StreamMessage[Any]:
    try:
        return await original(record)
    except UnicodeDecodeError:
        bad = [k for k, v in record.headers if not _is_utf8(v)]
        fixed = [(k, v.decode("utf-8", "replace").encode()) for k, v in record.headers]
        headers = [*fixed, (INVALID_HEADERS, ",".join(bad).encode())]
        copy = dataclasses.replace(record, headers=headers)
        if hasattr(record, "consumer"):
            copy.consumer = record.consumer
        return await original(copy)


def _is_utf8(value: bytes | None) -> bool:
    try:
        (value or b"").decode()
    except UnicodeDecodeError:
        return False
    return True


async def commit(msg: KafkaMessage, record: Any) -> None:
    """Commit `record` (its offset + 1) on the consumer that read it."""
    partition = TopicPartition(record.topic, record.partition)
    consumer: Any = msg.consumer  # the real AIOKafkaConsumer, which takes explicit offsets
    try:
        await consumer.commit({partition: record.offset + 1})
    except KafkaError as exc:
        # The partition was lost in a rebalance: its next owner reads the message again, and
        # every Herald handler is idempotent.
        log.warning("offset.commit_failed", error=str(exc))


class Pauser:
    """Pause a partition at a record and resume it later; cancel pending resumes on shutdown."""

    def __init__(self) -> None:
        self._pending: set[asyncio.TimerHandle] = set()

    def hold(self, consumer: Any, record: Any, until: datetime) -> None:
        partition = TopicPartition(record.topic, record.partition)
        consumer.pause(partition)
        consumer.seek(partition, record.offset)  # read the same record again after resuming
        delay = max((until - datetime.now(UTC)).total_seconds(), 0.0)
        handle: asyncio.TimerHandle | None = None

        def resume() -> None:
            if handle is not None:
                self._pending.discard(handle)
            with contextlib.suppress(IllegalStateError, KafkaError):
                consumer.resume(partition)  # the partition may have been revoked meanwhile

        handle = asyncio.get_running_loop().call_later(delay, resume)
        self._pending.add(handle)

    def close(self) -> None:
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()
