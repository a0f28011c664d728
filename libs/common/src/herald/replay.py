"""`python -m herald.replay`: move dead letters back to a platform's request topic.

It reads the dead-letter topic from its start up to the end offsets seen when it began (so it
never chases its own output), keeps the messages that match the filters (error code, category,
time range), and produces them to the request topic with their key, body and CloudEvents headers.
The `x-error-*` and delivery headers are dropped, `x-replayed-from` (topic:partition:offset) and a
fresh `x-replay-id` are added, and the attempt budget starts again.

Kafka cannot delete a record, so a dead letter stays in its topic after a replay. Replaying it
twice is harmless: the publisher's ledger reopens a failed target once per replay id, and a target
that has meanwhile been published is only reported as published again.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from herald.delivery import DELIVERY_HEADERS, ERROR_PREFIX, REPLAY_ID, REPLAYED_FROM, from_ms
from herald.topics import Platform, TopicNames


@dataclass(frozen=True)
class ReplayFilter:
    codes: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, headers: dict[str, str]) -> bool:
        if self.codes and headers.get(f"{ERROR_PREFIX}code") not in self.codes:
            return False
        if self.categories and headers.get(f"{ERROR_PREFIX}category") not in self.categories:
            return False
        failed_at = headers.get(f"{ERROR_PREFIX}at")
        if (self.since or self.until) and not failed_at:
            return False
        if failed_at:
            moment = from_ms(failed_at)
            if (self.since and moment < self.since) or (self.until and moment >= self.until):
                return False
        return True


@dataclass
class ReplayReport:
    scanned: int = 0
    replayed: list[str] = field(default_factory=list)  # topic:partition:offset of each one


async def replay(
    bootstrap: str,
    platform: Platform,
    *,
    names: TopicNames | None = None,
    only: ReplayFilter | None = None,
    dry_run: bool = False,
) -> ReplayReport:
    names = names or TopicNames()
    only = only or ReplayFilter()
    source, target = names.dlq(platform), names.requested(platform)
    # No group, no committed offsets: reading starts at the earliest record of each partition.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await consumer.start()
    await producer.start()
    report = ReplayReport()
    try:
        count = await _partition_count(bootstrap, source)
        partitions = [TopicPartition(source, p) for p in range(count)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > 0}
        idle_polls = 0
        # Stop at the end offsets seen at the start; ten empty polls in a row also end it (a
        # partition whose last records were removed by retention never reaches its end offset).
        while remaining and idle_polls < 10:
            batch = await consumer.getmany(timeout_ms=1000)
            idle_polls = 0 if batch else idle_polls + 1
            for tp, records in batch.items():
                for record in records:
                    if tp not in remaining or record.offset >= ends[tp]:
                        continue
                    report.scanned += 1
                    await _replay_one(
                        producer, record, target, only=only, dry_run=dry_run, report=report
                    )
                    if record.offset + 1 >= ends[tp]:
                        remaining.discard(tp)
    finally:
        await consumer.stop()
        await producer.stop()
    return report


async def _partition_count(bootstrap: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if described["error_code"] != 0 or not described["partitions"]:
        msg = f"topic {topic} does not exist"
        raise LookupError(msg)
    return len(described["partitions"])


async def _replay_one(
    producer: AIOKafkaProducer,
    record: object,
    target: str,
    *,
    only: ReplayFilter,
    dry_run: bool,
    report: ReplayReport,
) -> None:
    raw: list[tuple[str, bytes]] = list(getattr(record, "headers", ()))
    headers = {k: v.decode("utf-8", "replace") for k, v in raw}
    if not only.matches(headers):
        return
    rec: Any = record  # an aiokafka ConsumerRecord
    origin = f"{rec.topic}:{rec.partition}:{rec.offset}"
    kept = [
        (k, v)
        for k, v in raw
        if not k.startswith(ERROR_PREFIX)
        and k not in DELIVERY_HEADERS
        and k not in (REPLAYED_FROM, REPLAY_ID)
    ]
    kept += [(REPLAYED_FROM, origin.encode()), (REPLAY_ID, uuid.uuid4().hex.encode())]
    if not dry_run:
        await producer.send_and_wait(target, rec.value, key=rec.key, headers=kept)
    report.replayed.append(origin)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m herald.replay", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--platform", required=True, choices=[p.value for p in Platform])
    parser.add_argument("--bootstrap", default=None, help="default: HERALD_KAFKA_BOOTSTRAP_SERVERS")
    parser.add_argument(
        "--code", action="append", default=[], help="only this x-error-code (repeatable)"
    )
    parser.add_argument(
        "--category", action="append", default=[], help="only this x-error-category"
    )
    parser.add_argument(
        "--since", type=datetime.fromisoformat, help="failed at or after (ISO 8601)"
    )
    parser.add_argument("--until", type=datetime.fromisoformat, help="failed before (ISO 8601)")
    parser.add_argument("--prefix", default="", help="topic prefix of the deployment")
    parser.add_argument("--dry-run", action="store_true", help="list what would be replayed")
    args = parser.parse_args(argv)
    from herald.settings import KafkaSettings  # noqa: PLC0415 - read the environment only when run

    bootstrap = args.bootstrap or KafkaSettings().bootstrap_servers
    only = ReplayFilter(frozenset(args.code), frozenset(args.category), args.since, args.until)
    report = asyncio.run(
        replay(
            bootstrap,
            Platform(args.platform),
            names=TopicNames(prefix=args.prefix),
            only=only,
            dry_run=args.dry_run,
        )
    )
    verb = "would replay" if args.dry_run else "replayed"
    print(f"scanned {report.scanned} dead letters; {verb} {len(report.replayed)}")  # noqa: T201
    for origin in report.replayed:
        print(f"  {origin}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
