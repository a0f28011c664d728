"""Pieces every Herald consumer uses to be safe with FastStream on aiokafka.

- `tolerant_parser`: FastStream's parser fails on a header value that is not UTF-8; this one
  replaces such values and names them in `x-herald-invalid-headers`, so the message reaches the
  handler (and from there the dead-letter topic or a rejection) instead of being skipped.
- `commit`: commits exactly one record's offset (+1), not every consumed position; commits that
  meet while one is in flight share one request.
- `Pauser`: pauses a partition, rewinds it to a record and resumes it at a given time, so a
  handler never sleeps: used for delay tiers and to put a message back after an unexpected error.
- `POISON`: the errors that come from a message's content, not from a dependency: handling it
  again fails the same way, so a consumer answers it (a rejection, a dead letter, with the
  reason) instead of putting it back forever.
- `Strikes`: the safety net for the rest. An error no dependency explains (not `DEPENDENCY`: a
  `TypeError`, a `KeyError`, a bug an input found) that fails the same record `limit` times in a
  row makes it poison too; a dependency away (MongoDB, Kafka, auth-service) never does, however
  long it lasts.

Subscribers that use these take `ack_policy=AckPolicy.MANUAL` and commit themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import weakref
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import structlog
from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError, KafkaError
from bson.errors import BSONError
from faststream.kafka import KafkaMessage
from faststream.message import StreamMessage
from pymongo.errors import PyMongoError

from herald.apierrors import Unavailable
from herald.errors import HeraldError

log = structlog.get_logger(__name__)

INVALID_HEADERS = "x-herald-invalid-headers"
# A value that cannot be converted, computed or stored (ADR 0016). A dependency away raises
# none of these (pymongo's and aiokafka's errors, OSError, httpx's): those are put back.
POISON: tuple[type[BaseException], ...] = (ValueError, ArithmeticError, RecursionError, BSONError)
# What a dependency away raises, or Herald on purpose (its handlers decide what that leads to):
# put back for as long as it lasts, never counted as a strike.
DEPENDENCY: tuple[type[BaseException], ...] = (
    OSError,  # ConnectionError, TimeoutError
    PyMongoError,
    KafkaError,
    httpx.HTTPError,
    HeraldError,
    Unavailable,  # a service's own word for a dependency that did not answer
)


class Strikes:
    """Consecutive failures per record (topic, partition, offset): `poisoned` says whether an
    error makes the record poison, at once (`POISON`) or at its `limit`-th failure in a row
    (an error outside `DEPENDENCY`). Memory is bounded: past `keep` records the oldest go."""

    def __init__(self, limit: int = 3, keep: int = 10_000) -> None:
        self._limit = limit
        self._keep = keep
        self._counts: dict[tuple[str, int, int], int] = {}

    def poisoned(self, record: Any, error: BaseException) -> bool:
        if isinstance(error, POISON):
            return True
        if isinstance(error, DEPENDENCY) or not isinstance(error, Exception):
            return False
        key = (record.topic, record.partition, record.offset)
        count = self._counts.pop(key, 0) + 1
        if count >= self._limit:
            return True
        self._counts[key] = count
        while len(self._counts) > self._keep:
            del self._counts[next(iter(self._counts))]
        return False


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
    """Commit `record` (its offset + 1) on the consumer that read it; returns once committed.

    Commits that arrive while one of the same consumer is in flight go out together, as one
    request holding the highest offset of each partition: each caller still returns only after
    its own offset (or a later one of its partition) is committed, with a Kafka request per
    round instead of per record.
    """
    consumer: Any = msg.consumer  # the real AIOKafkaConsumer, which takes explicit offsets
    committer = _COMMITTERS.get(consumer)
    if committer is None:
        committer = _COMMITTERS[consumer] = _Committer(consumer)
    await committer.commit(TopicPartition(record.topic, record.partition), record.offset + 1)


def commit_soon(msg: KafkaMessage, record: Any) -> None:
    """`commit`, without waiting for the broker: the consumer goes on to its next record while
    the offset is on its way (and commits of several records go out as one request). Only for a
    handler whose work is idempotent and already durable: a commit that fails, or is cut short
    by a shutdown, only means the record is handled again after a restart or a rebalance. A
    failure is logged, never lost silently; a failing handler still rewinds its partition to its
    own record (`Pauser.hold`), behind every offset committed this way."""
    task = asyncio.ensure_future(commit(msg, record))
    _IN_FLIGHT.add(task)
    task.add_done_callback(_settled_commit)


def _settled_commit(task: asyncio.Future[None]) -> None:
    _IN_FLIGHT.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("offset.commit_failed", error=repr(task.exception()), waited=False)


_IN_FLIGHT: set[asyncio.Future[None]] = set()  # held until done: a task is not kept otherwise


class _Committer:
    def __init__(self, consumer: Any) -> None:
        self._consumer = consumer
        self._offsets: dict[TopicPartition, int] = {}
        self._waiters: dict[TopicPartition, list[asyncio.Future[None]]] = {}
        self._flushing: asyncio.Task[None] | None = None

    async def commit(self, partition: TopicPartition, offset: int) -> None:
        self._offsets[partition] = max(offset, self._offsets.get(partition, 0))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(partition, []).append(done)
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())
        await asyncio.shield(done)

    async def _flush(self) -> None:
        while self._offsets:
            offsets, self._offsets = self._offsets, {}
            waiters, self._waiters = self._waiters, {}
            failure: BaseException | None = None
            try:
                await self._send(offsets)
            except BaseException as exc:  # noqa: BLE001 - handed to the callers, as if theirs
                failure = exc
            for future in (f for futures in waiters.values() for f in futures if not f.done()):
                if failure is None:
                    future.set_result(None)
                elif isinstance(failure, asyncio.CancelledError):
                    future.cancel()
                else:
                    future.set_exception(failure)
            if isinstance(failure, asyncio.CancelledError):
                return

    async def _send(self, offsets: dict[TopicPartition, int]) -> None:
        try:
            await self._consumer.commit(offsets)
        except KafkaError as exc:
            if len(offsets) == 1:
                # The partition was lost in a rebalance: its next owner reads the message
                # again, and every Herald handler is idempotent.
                log.warning("offset.commit_failed", error=str(exc))
                return
            # One partition lost must not cost the others their commit: one at a time.
            for partition, offset in offsets.items():
                await self._send({partition: offset})


_COMMITTERS: weakref.WeakKeyDictionary[Any, _Committer] = weakref.WeakKeyDictionary()


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


async def raw_body(msg: StreamMessage[Any], original: Callable[..., Any]) -> Any:
    """A FastStream decoder that hands the handler the bytes as they came: FastStream's own JSON
    decoding raises on a body that is not UTF-8 before any handler runs, and the message would
    be skipped unanswered. The handlers decode with `herald.cloudevents.decode`, which names
    what is wrong."""
    del original
    return msg.body
