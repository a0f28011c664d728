"""Replay from offset 0: every consumer group of a namespace back to the beginning of every
partition it consumes, and a way to wait until the groups have read everything again.

Kafka only lets a group's offsets be changed while the group has no member, so the services are
stopped first; a consumer that is not a member (manual assignment) then commits the beginning
offsets in the group's name, as `kafka-consumer-groups --reset-offsets --to-earliest` does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata

T = TypeVar("T")


async def groups(bootstrap: str, prefix: str) -> list[str]:
    """The consumer groups whose id starts with `prefix` (a stack's namespace)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        found = await admin.list_consumer_groups()
    finally:
        await admin.close()
    return sorted(str(g[0]) for g in found if str(g[0]).startswith(prefix))


async def _committed(admin: AIOKafkaAdminClient, group: str) -> dict[TopicPartition, int]:
    offsets = await admin.list_consumer_group_offsets(group)
    return {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}


async def _with_admin(
    bootstrap: str, work: Callable[[AIOKafkaAdminClient, AIOKafkaConsumer], Awaitable[T]]
) -> T:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await admin.start()
    await reader.start()
    try:
        return await work(admin, reader)
    finally:
        await reader.stop()
        await admin.close()


async def rewind(bootstrap: str, names: list[str]) -> int:
    """Commit the beginning offset of every partition each group has consumed; returns how many
    messages the groups will read again."""

    async def work(admin: AIOKafkaAdminClient, reader: AIOKafkaConsumer) -> int:
        again = 0
        for group in names:
            committed = await _committed(admin, group)
            if not committed:
                continue
            starts = await reader.beginning_offsets(list(committed))
            again += sum(committed[tp] - starts[tp] for tp in committed)
            member = AIOKafkaConsumer(
                bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
            )
            await member.start()
            try:
                member.assign(list(committed))
                await member.commit({tp: OffsetAndMetadata(starts[tp], "") for tp in committed})
            finally:
                await member.stop()
        return again

    return await _with_admin(bootstrap, work)


async def lag(bootstrap: str, names: list[str]) -> dict[str, int]:
    """Messages each group has yet to read, over the partitions it has committed."""

    async def work(admin: AIOKafkaAdminClient, reader: AIOKafkaConsumer) -> dict[str, int]:
        behind: dict[str, int] = {}
        for group in names:
            committed = await _committed(admin, group)
            ends = await reader.end_offsets(list(committed)) if committed else {}
            behind[group] = sum(max(ends[tp] - committed[tp], 0) for tp in committed)
        return behind

    return await _with_admin(bootstrap, work)


def wait_drained(bootstrap: str, names: list[str], timeout_s: float) -> dict[str, int]:
    """Until every group has read to the end twice in a row, 2 s apart; the last lags."""
    deadline = time.monotonic() + timeout_s
    quiet = 0
    behind: dict[str, int] = {}
    while time.monotonic() < deadline:
        behind = asyncio.run(lag(bootstrap, names))
        quiet = quiet + 1 if not any(behind.values()) else 0
        if quiet >= 2:
            return behind
        time.sleep(2)
    return behind
