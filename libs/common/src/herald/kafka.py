"""Kafka factories: the FastStream broker every service uses, and topic provisioning.

The broker produces with `acks=all` and the idempotent producer, and a send returns once the
broker acknowledged it (docs/architecture.md, "Process shape"). Topics are never auto-created
by clients; `provision_topics` creates them with their partition counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

import structlog
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError
from faststream.kafka import KafkaBroker

from herald.logging import adopt_library_loggers
from herald.settings import KafkaSettings
from herald.topics import TopicSpec

log = structlog.get_logger(__name__)


def new_broker(
    settings: KafkaSettings,
    *,
    client_id: str,
    middlewares: Sequence[Any] = (),
) -> KafkaBroker:
    """A FastStream Kafka broker with the producer settings Herald relies on."""
    broker = KafkaBroker(
        settings.bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=settings.request_timeout_ms,
        allow_auto_create_topics=False,
        graceful_timeout=settings.graceful_timeout_s,
        middlewares=middlewares,
        logger=logging.getLogger(f"faststream.{client_id}"),
        # FastStream's per-message "Received"/"Processed" lines go to DEBUG: Herald logs one
        # summary line per handled message itself.
        log_level=logging.DEBUG,
    )
    adopt_library_loggers()
    return broker


async def start_broker(
    broker: KafkaBroker, settings: KafkaSettings, topics: Iterable[str] = ()
) -> None:
    """Start `broker` once Kafka answers and every one of `topics` exists, retrying until
    `startup_timeout_s` has passed.

    `topics` are the service's own (`TopicNames.for_service`): waiting for them by name turns
    an unprovisioned topic into an error that names it, rather than a consumer's
    `UnknownTopicOrPartitionError`, or a producer's first send timing out much later.
    """
    wanted = sorted(set(topics))
    deadline = time.monotonic() + settings.startup_timeout_s
    while True:
        try:
            missing = await missing_topics(settings, wanted) if wanted else []
            if not missing:
                await broker.start()
                return
        except (KafkaConnectionError, KafkaError, OSError) as exc:
            await broker.stop()
            if time.monotonic() >= deadline:
                msg = (
                    f"Kafka at {settings.bootstrap_servers} did not answer within "
                    f"{settings.startup_timeout_s:.0f}s ({exc}); "
                    "check HERALD_KAFKA_BOOTSTRAP_SERVERS"
                )
                raise ConnectionError(msg) from exc
            log.warning("kafka.unavailable", bootstrap=settings.bootstrap_servers, error=str(exc))
        else:
            if time.monotonic() >= deadline:
                msg = (
                    f"Kafka at {settings.bootstrap_servers} still lacks topic(s) "
                    f"{', '.join(missing)} after {settings.startup_timeout_s:.0f}s; provision "
                    "them (`herald-stack provision` or `python -m herald.provision`)"
                )
                raise ConnectionError(msg)
            log.warning("kafka.topics_missing", topics=missing)
        await asyncio.sleep(1.0)


async def missing_topics(settings: KafkaSettings, topics: Iterable[str]) -> list[str]:
    """Those of `topics` the cluster does not have (yet), in the order given."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers,
        request_timeout_ms=settings.request_timeout_ms,
    )
    try:
        await admin.start()
        existing = set(await admin.list_topics())
    finally:
        await admin.close()
    return [t for t in topics if t not in existing]


async def check_broker(broker: KafkaBroker) -> None:
    """Readiness: raise unless the broker answers a ping (the caller bounds the wait)."""
    if not await broker.ping(timeout=None):
        msg = "Kafka did not answer a ping"
        raise ConnectionError(msg)


async def provision_topics(
    bootstrap_servers: str,
    plan: Iterable[TopicSpec],
    *,
    replication_factor: int = 1,
    timeout_ms: int = 30_000,
) -> tuple[list[str], list[str]]:
    """Create every topic of `plan` that does not exist yet; returns (created, existing).

    Existing topics with fewer partitions than planned are grown; more are never removed.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=timeout_ms)
    await admin.start()
    try:
        specs = list(plan)
        existing = set(await admin.list_topics())
        missing = [s for s in specs if s.name not in existing]
        if missing:
            new = [NewTopic(s.name, s.partitions, replication_factor) for s in missing]
            # Another provisioner may race us to it; what matters is that the topics exist.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(new, timeout_ms=timeout_ms)
        await _grow_partitions(admin, [s for s in specs if s.name in existing])
        await _wait_for_leaders(admin, [s.name for s in specs], timeout_ms / 1000)
        return [s.name for s in missing], sorted(existing & {s.name for s in specs})
    finally:
        await admin.close()


async def _grow_partitions(admin: AIOKafkaAdminClient, specs: list[TopicSpec]) -> None:
    if not specs:
        return
    from aiokafka.admin import NewPartitions  # noqa: PLC0415 - only needed on the rare grow path

    described = await admin.describe_topics([s.name for s in specs])
    current = {d["topic"]: len(d["partitions"]) for d in described}
    grow = {
        s.name: NewPartitions(s.partitions) for s in specs if current.get(s.name, 0) < s.partitions
    }
    if grow:
        await admin.create_partitions(grow)


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str], timeout_s: float) -> None:
    """Topic creation returns before every partition has a leader; wait until they all do."""
    deadline = time.monotonic() + timeout_s
    while True:
        described = await admin.describe_topics(names)
        leaderless = [
            d["topic"]
            for d in described
            if d["error_code"] != 0 or any(p["leader"] < 0 for p in d["partitions"])
        ]
        if not leaderless:
            return
        if time.monotonic() >= deadline:
            msg = f"topics without leaders after {timeout_s:.0f}s: {', '.join(leaderless[:5])}"
            raise TimeoutError(msg)
        await asyncio.sleep(0.2)
