"""How precisely the scheduler dispatches: due time → `post.requested` produced.

Starts `python -m scheduler` (default dispatcher settings: poll interval 250 ms) against the
local Kafka and FerretDB, under an isolated topic prefix and a fresh database, then runs two
scenarios and prints figures; it asserts nothing about speed:

- spread: N targets (default 5,000) due evenly over S seconds (default 60);
- burst: N targets (default 5,000) due at one instant.

The delay of a target is the Kafka record's CreateTime (stamped by the scheduler's producer when
it sends) minus the target's due time, read back by a consumer; the burst's drain time is the
last record's CreateTime minus the instant. Targets (issue 6): spread p99 ≤ 250 ms, burst drained
within 5 s. Targets are queued through the scheduler's own store (the `pending` collection, in
batches), as submissions leave them. Time is bounded per scenario; only loopback is contacted.

    .venv/bin/python tests/benchmarks/bench_dispatch.py [--targets N] [--spread-s S] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from herald.kafka import provision_topics
from herald.topics import Platform, TopicNames, TopicSpec
from scheduler.adapters.dispatch import MongoDispatch
from scheduler.ports import PendingItem

KAFKA = os.environ.get("HERALD_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
MONGO = os.environ.get("HERALD_MONGO_URI", "mongodb://127.0.0.1:27018/")
LEAD_S = 15.0  # targets are queued this long before the first falls due
DRAIN_LIMIT_S = 120.0
INTEGRATIONS = 50
CHUNK = 1_000


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def loopback_only() -> None:
    hosts = [part.rsplit(":", 1)[0] for part in KAFKA.split(",")]
    hosts.append(MONGO.split("//", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0])
    strangers = [h for h in hosts if h not in ("127.0.0.1", "localhost", "[::1]")]
    if strangers:
        raise SystemExit(f"bench_dispatch talks to loopback only; refusing {strangers}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def scheduler_process(database: str, prefix: str, log: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "HERALD_KAFKA_BOOTSTRAP_SERVERS": KAFKA,
        "HERALD_MONGO_URI": MONGO,
        "HERALD_SCHEDULER_DATABASE": database,
        "HERALD_SCHEDULER_TOPIC_PREFIX": prefix,
        "HERALD_SCHEDULER_HTTP__PORT": str(port),
        "HERALD_SCHEDULER_CAMPAIGNS__ENABLED": "false",
        "HERALD_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "HERALD_LOG_FORMAT": "json",
    }
    url = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "scheduler"], env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while not ready(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the scheduler did not become ready; see {log}")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as answer:  # noqa: S310 - loopback
            return bool(answer.status == 200)
    except OSError:
        return False


def items(run: str, due: list[datetime]) -> list[PendingItem]:
    request: dict[str, Any] = {
        "content": {"text": "bench"},
        "options": {"platform": "facebook"},
    }
    return [
        PendingItem(
            target_id=f"{run}-{n}",
            epoch=1,
            due_at=at,
            post_id=f"{run}-post-{n}",
            business_id="bench",
            integration_id=f"fb-{n % INTEGRATIONS}",
            platform=Platform.FACEBOOK,
            request=request,
        )
        for n, at in enumerate(due)
    ]


async def queue(store: MongoDispatch, pending: list[PendingItem]) -> float:
    began = time.perf_counter()
    for start in range(0, len(pending), CHUNK):
        await store.add_pending(pending[start : start + CHUNK])
    return time.perf_counter() - began


async def collect(topic: str, run: str, count: int, deadline: float) -> dict[str, float]:
    """target id → produce time (epoch s) for `count` targets of `run`, or what arrived by then."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    seen: dict[str, float] = {}
    try:
        while len(seen) < count and time.time() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=5_000)
            for records in batches.values():
                for record in records:
                    target = json.loads(record.value)["target_id"]
                    if target.startswith(f"{run}-"):
                        seen.setdefault(target, record.timestamp / 1000)
    finally:
        await consumer.stop()
    return seen


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


async def scenario(
    store: MongoDispatch, topic: str, name: str, due: list[datetime]
) -> dict[str, float]:
    run = f"{name}-{uuid.uuid4().hex[:6]}"
    pending = items(run, due)
    listener = asyncio.create_task(
        collect(topic, run, len(due), max(d.timestamp() for d in due) + DRAIN_LIMIT_S)
    )
    queued_s = await queue(store, pending)
    produced = await listener
    delays = [
        produced[i.target_id] - i.due_at.timestamp() for i in pending if i.target_id in produced
    ]
    result = {"targets": len(due), "produced": len(produced), "queued_s": queued_s}
    if delays:
        result |= {
            "p50_ms": percentile(delays, 50) * 1000,
            "p95_ms": percentile(delays, 95) * 1000,
            "p99_ms": percentile(delays, 99) * 1000,
            "max_ms": max(delays) * 1000,
            "mean_ms": statistics.fmean(delays) * 1000,
            "drain_s": max(produced.values()) - min(d.timestamp() for d in due),
        }
    return result


def report(name: str, result: dict[str, float]) -> None:
    say(
        f"-- {name}: {result['produced']:.0f} of {result['targets']:.0f} produced "
        f"(queued in {result['queued_s']:.1f}s)"
    )
    if "p50_ms" in result:
        say(
            f"   produce - due: p50 {result['p50_ms']:.0f} ms, p95 {result['p95_ms']:.0f} ms, "
            f"p99 {result['p99_ms']:.0f} ms, max {result['max_ms']:.0f} ms"
        )
        say(f"   last produced {result['drain_s']:.2f} s after the first due time")


async def main(args: argparse.Namespace) -> None:
    loopback_only()
    names = TopicNames(prefix=f"bench{uuid.uuid4().hex[:8]}.")
    topic = names.requested(Platform.FACEBOOK)
    specs = [
        TopicSpec(n, 12)
        for n in (names.post_submitted, names.post_results, names.integration_events, topic)
    ]
    await provision_topics(KAFKA, specs)
    database = f"bench_{uuid.uuid4().hex[:10]}"
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGO, tz_aware=True)
    store = MongoDispatch(mongo[database])
    log = Path(".run") / "bench_dispatch.log"
    log.parent.mkdir(exist_ok=True)
    try:
        with scheduler_process(database, names.prefix, log):
            say(f"scheduler ready; spread {args.targets}, burst {args.burst}; log in {log}")
            if args.targets:
                start = datetime.now(UTC) + timedelta(seconds=LEAD_S)
                step = args.spread_s / args.targets
                spread = [start + timedelta(seconds=step * n) for n in range(args.targets)]
                result = await scenario(store, topic, "spread", spread)
                report(f"spread over {args.spread_s:.0f} s", result)
            if args.burst:
                burst = [datetime.now(UTC) + timedelta(seconds=LEAD_S)] * args.burst
                report("burst at one instant", await scenario(store, topic, "burst", burst))
            say("targets: spread p99 ≤ 250 ms; burst drained ≤ 5 s (figures, not assertions)")
    finally:
        await mongo.drop_database(database)
        await mongo.close()
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
        await admin.start()
        try:
            await admin.delete_topics([s.name for s in specs])
        finally:
            await admin.close()


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=5_000, help="targets in the spread")
    parser.add_argument("--burst", type=int, default=5_000, help="targets in the burst")
    parser.add_argument("--spread-s", type=float, default=60.0, help="spread duration")
    parser.add_argument("--quick", action="store_true", help="500 targets over 10 s each")
    args = parser.parse_args()
    if args.quick:
        args.targets, args.burst, args.spread_s = 500, 500, 10.0
    return args


if __name__ == "__main__":
    asyncio.run(main(parse()))
