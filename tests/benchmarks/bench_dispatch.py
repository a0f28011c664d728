"""How precisely the scheduler dispatches: due time → `post.requested` produced.

Starts `python -m scheduler` (default dispatcher settings: poll interval 250 ms) against the
local Kafka and FerretDB (a running stack is reused), under an isolated topic prefix holding
exactly the scheduler's own topics (`TopicNames.for_service`) and a fresh database, then runs two
scenarios and prints figures; it asserts nothing about speed:

- spread: N targets (default 5,000) due evenly over S seconds (default 60);
- burst: N targets (default 5,000) due at one instant.

The delay of a target is the Kafka record's CreateTime (stamped by the scheduler's producer when
it sends) minus the target's due time, read back by a consumer; the burst's drain time is the
last record's CreateTime minus the instant. Targets (issue 6): spread p99 ≤ 250 ms, burst drained
within 5 s. Targets are queued through the scheduler's own store (the `pending` collection, in
batches), as submissions leave them, so no request goes through the API (and none is refused).
Time is bounded per scenario; only loopback is contacted. A run in which some target was never
produced exits with status 1: its figures would describe a broken scheduler.

`--quick` (200 targets over 3 s, a burst of 200, queued 2 s ahead) checks that all this still
works in seconds; `make test` runs it (tests/benchmarks/test_quick.py).

    .venv/bin/python tests/benchmarks/bench_dispatch.py [--targets N] [--spread-s S] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient
from resultline import result_line

from herald.kafka import provision_topics
from herald.testkit.servers import free_port
from herald.topics import SCHEDULER, Platform, TopicNames
from herald_localstack import stack
from herald_localstack.config import StackConfig
from scheduler.adapters.dispatch import MongoDispatch
from scheduler.ports import PendingItem, Request

RESULT_KEYS: tuple[str, ...] = (
    "spread_targets",
    "spread_produced",
    "spread_p50_ms",
    "spread_p95_ms",
    "spread_p99_ms",
    "burst_targets",
    "burst_produced",
    "burst_p99_ms",
    "burst_drain_s",
)
INTEGRATIONS = 50
CHUNK = 1_000
PARTITIONS = 12


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def loopback_only(kafka: str, mongo: str) -> None:
    hosts = [part.rsplit(":", 1)[0] for part in kafka.split(",")]
    hosts.append(mongo.split("//", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0])
    strangers = [h for h in hosts if h not in ("127.0.0.1", "localhost", "[::1]")]
    if strangers:
        raise SystemExit(f"bench_dispatch talks to loopback only; refusing {strangers}")


@contextlib.contextmanager
def scheduler_process(cfg: StackConfig, database: str, prefix: str, log: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "HERALD_KAFKA_BOOTSTRAP_SERVERS": cfg.kafka_bootstrap,
        "HERALD_MONGO_URI": cfg.mongo_uri,
        "HERALD_SCHEDULER_DATABASE": database,
        "HERALD_SCHEDULER_TOPIC_PREFIX": prefix,
        "HERALD_SCHEDULER_HTTP__PORT": str(port),
        "HERALD_SCHEDULER_CAMPAIGNS__ENABLED": "false",
        "HERALD_LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "HERALD_LOG_FORMAT": "json",
        # Within the wait below: a topic missing from the scheduler's list fails the run here.
        "HERALD_KAFKA_STARTUP_TIMEOUT_S": "30",
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
    request = Request({"text": "bench"}, {"platform": "facebook"})
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


async def collect(
    kafka: str, topic: str, run: str, count: int, deadline: float
) -> dict[str, float]:
    """target id → produce time (epoch s) for `count` targets of `run`, or what arrived by then."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka, auto_offset_reset="earliest", enable_auto_commit=False
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


@dataclass(frozen=True)
class Bench:
    kafka: str
    store: MongoDispatch
    topic: str
    drain_limit_s: float  # how long after the last due time a target may still come


async def scenario(bench: Bench, name: str, due: list[datetime]) -> dict[str, float]:
    run = f"{name}-{uuid.uuid4().hex[:6]}"
    pending = items(run, due)
    deadline = max(d.timestamp() for d in due) + bench.drain_limit_s
    listener = asyncio.create_task(collect(bench.kafka, bench.topic, run, len(due), deadline))
    queued_s = await queue(bench.store, pending)
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


async def main(cfg: StackConfig, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Both scenarios' figures, by scenario name."""
    loopback_only(cfg.kafka_bootstrap, cfg.mongo_uri)
    names = TopicNames(prefix=f"bench{uuid.uuid4().hex[:8]}.")
    specs = names.for_service(SCHEDULER).plan(PARTITIONS)
    await provision_topics(cfg.kafka_bootstrap, specs)
    database = f"bench_{uuid.uuid4().hex[:10]}"
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(cfg.mongo_uri, tz_aware=True)
    bench = Bench(
        cfg.kafka_bootstrap,
        MongoDispatch(mongo[database]),
        names.requested(Platform.FACEBOOK),
        args.drain_limit_s,
    )
    log = Path(".run") / "bench_dispatch.log"
    log.parent.mkdir(exist_ok=True)
    results: dict[str, dict[str, float]] = {}
    try:
        with scheduler_process(cfg, database, names.prefix, log):
            say(f"scheduler ready; spread {args.targets}, burst {args.burst}; log in {log}")
            if args.targets:
                start = datetime.now(UTC) + timedelta(seconds=args.lead_s)
                step = args.spread_s / args.targets
                spread = [start + timedelta(seconds=step * n) for n in range(args.targets)]
                results["spread"] = await scenario(bench, "spread", spread)
                report(f"spread over {args.spread_s:.0f} s", results["spread"])
            if args.burst:
                burst = [datetime.now(UTC) + timedelta(seconds=args.lead_s)] * args.burst
                results["burst"] = await scenario(bench, "burst", burst)
                report("burst at one instant", results["burst"])
            say("targets: spread p99 ≤ 250 ms; burst drained ≤ 5 s (figures, not assertions)")
    finally:
        await mongo.drop_database(database)
        await mongo.close()
        admin = AIOKafkaAdminClient(bootstrap_servers=cfg.kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([s.name for s in specs])
        finally:
            await admin.close()
    return results


def figures(results: dict[str, dict[str, float]]) -> dict[str, float | None]:
    spread, burst = results.get("spread", {}), results.get("burst", {})
    return {
        "spread_targets": spread.get("targets"),
        "spread_produced": spread.get("produced"),
        "spread_p50_ms": spread.get("p50_ms"),
        "spread_p95_ms": spread.get("p95_ms"),
        "spread_p99_ms": spread.get("p99_ms"),
        "burst_targets": burst.get("targets"),
        "burst_produced": burst.get("produced"),
        "burst_p99_ms": burst.get("p99_ms"),
        "burst_drain_s": burst.get("drain_s"),
    }


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", type=int, default=5_000, help="targets in the spread")
    parser.add_argument("--burst", type=int, default=5_000, help="targets in the burst")
    parser.add_argument("--spread-s", type=float, default=60.0, help="spread duration")
    parser.add_argument(
        "--lead-s", type=float, default=15.0, help="targets are queued this long before due"
    )
    parser.add_argument(
        "--drain-limit-s", type=float, default=120.0, help="wait after the last due time"
    )
    parser.add_argument(
        "--quick", action="store_true", help="200 targets over 3 s, a burst of 200, in seconds"
    )
    args = parser.parse_args()
    if args.quick:
        args.targets, args.burst, args.spread_s = 200, 200, 3.0
        args.lead_s, args.drain_limit_s = 2.0, 30.0
    return args


def run() -> int:
    args = parse()
    cfg = StackConfig.from_env()
    with stack.shared_infra(cfg):  # a running stack is reused
        results = asyncio.run(main(cfg, args))
    incomplete = [n for n, r in results.items() if r["produced"] < r["targets"]]
    say(result_line(RESULT_KEYS, figures(results)))
    if incomplete:
        sys.stderr.write(f"bench_dispatch: targets never produced in {incomplete}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
