"""A WhatsApp broadcast on one phone number, paced by publisher-whatsapp, as the sandbox counts it.

For each throughput limit (80/s, then 1,000/s): the platform sandbox runs as its own process with
that limit on its demo number (webhooks off), publisher-whatsapp runs in this process on the real
Kafka and FerretDB of deploy/local with `pace.throughput_mps` at the same limit, and this script
produces `post.requested.whatsapp` events of N recipients each (a template broadcast, as the
scheduler will split one) keyed by the integration id, then waits for every batch's result.
The sandbox's ledger of accepted messages gives the figures: the sustained rate (messages over
the span from first to last), the mean of the full one-second windows, the highest count in any
whole second and in any sliding one-second window, against the limit; plus 130429 refusals and
duplicates. Target (issue 8): ≥ 95 % of the limit sustained, no window above it. Asserts nothing.
Where the CPU went during each broadcast is printed per process (`cpu.py`): the sandbox, Kafka,
FerretDB, PostgreSQL, and this process, which hosts publisher-whatsapp and the producer.
The topics are exactly publisher-whatsapp's own (`TopicNames.for_service`), which it waits for.
`--quick` (200 recipients at 100/s) checks in seconds that the path still works; `make test`
runs it (tests/benchmarks/test_quick.py).

    .venv/bin/python tests/benchmarks/bench_whatsapp.py [--quick]
    HERALD_BENCH_WA_RECIPIENTS=20000 HERALD_BENCH_WA_BATCH=100 HERALD_BENCH_WA_LIMITS=80,1000 \
    HERALD_BENCH_WA_TRANSPORT=aiohttp HERALD_BENCH_WA_IN_FLIGHT=16 \
    .venv/bin/python tests/benchmarks/bench_whatsapp.py
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from cpu import CpuWatch
from dbtime import print_database_time
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from resultline import Figure, result_line

from herald.cloudevents import encode
from herald.events import PostFailed, PostPublished, PostRequested
from herald.kafka import provision_topics
from herald.logging import configure_logging
from herald.mongo import new_mongo_client
from herald.settings import LogSettings, MongoSettings
from herald.testkit import Collector, running
from herald.testkit.servers import free_port
from herald.topics import Platform, TopicNames, publisher
from herald_localstack import stack
from herald_localstack.config import StackConfig
from platform_sandbox.testing.served import SandboxClient
from publisher_testenv.whatsapp import APP_SECRET, Env
from publisher_whatsapp.app import create_app
from publisher_whatsapp.testing import whatsapp_request

RESULT_KEYS: tuple[str, ...] = (
    "recipients",
    "limits",
    "sustained_pct",
    "busiest_whole_s",
    "busiest_sliding_s",
    "duplicates",
    "failures",
    "throttles_130429",
    "busiest_process",
)
RECIPIENTS = int(os.environ.get("HERALD_BENCH_WA_RECIPIENTS", "20000"))
BATCH = int(os.environ.get("HERALD_BENCH_WA_BATCH", "100"))
LIMITS = [float(x) for x in os.environ.get("HERALD_BENCH_WA_LIMITS", "80,1000").split(",")]
TRANSPORT = os.environ.get("HERALD_BENCH_WA_TRANSPORT", "aiohttp")
IN_FLIGHT = int(os.environ.get("HERALD_BENCH_WA_IN_FLIGHT", "0"))  # 0: limit / 16, at least 16
DUMP = os.environ.get("HERALD_BENCH_WA_DUMP", "")  # a path prefix: the sandbox's stamps go there
QUICK_RECIPIENTS, QUICK_LIMITS = 200, [100.0]
HOST = "127.0.0.1"
INTEGRATION = "wa-bench-number"


@dataclass(frozen=True)
class Figures:
    """One limit's headline figures."""

    sustained_pct: float
    whole: int
    sliding: int
    duplicates: int
    failures: int
    throttles: int
    busiest: str


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@contextlib.contextmanager
def sandbox_process(limit: float) -> Iterator[str]:
    """The sandbox as its own process with `limit` messages/s per number and no webhooks."""
    port = free_port()
    env = os.environ | {
        "HERALD_SANDBOX_HTTP__PORT": str(port),
        "HERALD_SANDBOX_WHATSAPP__THROUGHPUT_MPS": str(limit),
        "HERALD_SANDBOX_META__WABA_CALLS_PER_HOUR": "1000000000",
        "HERALD_SANDBOX_META__APP_CALLS_PER_HOUR": "1000000000",
        "HERALD_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen([sys.executable, "-m", "platform_sandbox"], env=env)
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _healthy(base):
            if process.poll() is not None or time.monotonic() > deadline:
                msg = "the sandbox did not start"
                raise RuntimeError(msg)
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _healthy(base: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(f"{base}/healthz", timeout=1) as a:  # noqa: S310 - loopback
        return bool(a.status == 200)
    return False


def in_flight(limit: float) -> int:
    """Sends under way at once: enough to keep the pace while each waits for its log write."""
    return IN_FLIGHT or max(16, int(limit / 16))


def batches(total: int, size: int) -> list[PostRequested]:
    template = {"name": "hello_world", "language": "en_US"}
    requests = []
    for start in range(0, total, size):
        people = [
            {"recipient_id": f"c{i}", "to": f"+1{5_550_000_000 + i}"}
            for i in range(start, min(start + size, total))
        ]
        request = whatsapp_request(
            f"bench-{start // size:05d}", people, template=template, integration_id=INTEGRATION
        )
        requests.append(request)
    return requests


async def produce(bootstrap: str, topic: str, requests: list[PostRequested]) -> None:
    client = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await client.start()
    try:
        for request in requests:
            body, headers = encode(request, source="bench")
            raw = [(k, v.encode()) for k, v in headers.items()]
            await client.send(topic, body, key=INTEGRATION.encode(), headers=raw)
        await client.flush()
    finally:
        await client.stop()


def windows(stamps: list[float]) -> tuple[int, int, float]:
    """Highest count in a whole second, in any sliding second, and the mean of full seconds."""
    whole = Counter(int(t) for t in stamps)
    sliding, left = 0, 0
    for right, t in enumerate(stamps):
        while t - stamps[left] >= 1.0:
            left += 1
        sliding = max(sliding, right - left + 1)
    full = [n for s, n in whole.items() if min(whole) < s < max(whole)]
    return max(whole.values()), sliding, (sum(full) / len(full) if full else 0.0)


def throttles(metrics_text: str) -> int:
    found = 0.0
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if (
                sample.name == "herald_whatsapp_throttles_total"
                and sample.labels.get("code") == "130429"
            ):
                found += sample.value
    return int(found)


async def broadcast(
    cfg: StackConfig,
    app: FastAPI,
    names: TopicNames,
    requests: list[PostRequested],
    *,
    limit: float,
    recipients: int,
    cpu: CpuWatch,
) -> tuple[float, Collector, str]:
    """Produce every batch, wait for every result; wall time, the results and /metrics."""
    targets = {r.target_id for r in requests}

    def done(c: Collector) -> bool:
        ended = {e.target_id for e in c.events(PostPublished)}
        return targets <= ended | {e.target_id for e in c.events(PostFailed)}

    async with Collector(cfg.kafka_bootstrap, [names.post_results]) as out, running(app):
        began = time.perf_counter()
        cpu.start()
        await produce(cfg.kafka_bootstrap, names.requested(Platform.WHATSAPP), requests)
        # Generous: on a loaded machine the pace falls far below the limit, and that is a result.
        await out.wait_for(done, timeout_s=recipients / min(limit, 20.0) + 120)
        cpu.stop()
        wall = time.perf_counter() - began
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            metrics = (await client.get("/metrics")).text
    return wall, out, metrics


async def one_limit(cfg: StackConfig, limit: float, recipients: int) -> Figures:
    names = TopicNames(prefix=f"benchwa{uuid.uuid4().hex[:8]}.", tiers={"10s": 10})
    plan = names.for_service(publisher(Platform.WHATSAPP)).plan(partitions=4)
    await provision_topics(cfg.kafka_bootstrap, plan)
    database = f"bench_wa_{uuid.uuid4().hex[:8]}"
    mongo = new_mongo_client(MongoSettings(uri=cfg.mongo_uri), app_name="bench")
    requests = batches(recipients, BATCH)
    try:
        with sandbox_process(limit) as base:
            async with httpx.AsyncClient(timeout=120) as http:
                sandbox = SandboxClient(base, http, "whatsapp")
                await sandbox.load_demo()
                env = Env(cfg.kafka_bootstrap, cfg.mongo_uri, names, mongo[database], sandbox)
                app = create_app(
                    env.settings(
                        pace={"throughput_mps": limit},
                        send={"max_recipients": BATCH, "max_in_flight": in_flight(limit)},
                        graph={
                            "base_url": f"{base}/graph.facebook.com",
                            "app_secret": APP_SECRET,
                            "http": {"transport": TRANSPORT, "max_keepalive": 64},
                        },
                    ),
                    tokens=env.tokens,
                    names=names,
                )
                cpu = CpuWatch(me="publisher_whatsapp+producer")
                wall, out, metrics = await broadcast(
                    cfg, app, names, requests, limit=limit, recipients=recipients, cpu=cpu
                )
                entries = await sandbox.accepted()
        figures = report(limit, entries, wall, out, metrics, recipients=recipients, cpu=cpu)
        if DUMP:
            with open(f"{DUMP}-{limit:g}.txt", "w") as dump:  # noqa: ASYNC230 - after the run
                dump.writelines(f"{e['at_unix']}\n" for e in entries)
    finally:
        await mongo.drop_database(database)
        await mongo.close()
        admin = AIOKafkaAdminClient(bootstrap_servers=cfg.kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([t.name for t in plan])
        finally:
            await admin.close()
    return figures


def report(
    limit: float,
    entries: list[dict[str, Any]],
    wall: float,
    out: Collector,
    metrics: str,
    *,
    recipients: int,
    cpu: CpuWatch,
) -> Figures:
    stamps = sorted(float(e["at_unix"]) for e in entries)
    span = stamps[-1] - stamps[0] if len(stamps) > 1 else 0.0
    sustained = (len(stamps) - 1) / span if span else 0.0
    whole, sliding, mean_full = windows(stamps)
    sent = Counter(e["request"]["to"] for e in entries)
    failed = sum(
        1 for e in out.events(PostPublished) for o in e.recipients if o.status != "accepted"
    )
    above = " ABOVE THE LIMIT" if whole > limit else ""
    say(f"limit {limit:g}/s: {recipients} recipients, batches of {BATCH}, {TRANSPORT}")
    say(f"  sends in flight per batch {in_flight(limit)}")
    say(f"  accepted by the sandbox   {len(stamps)} ({len(sent)} recipients)")
    say(f"  duplicates, failures      {len(stamps) - len(sent)}, {failed}")
    say(f"  wall clock                {wall:.1f} s (first event produced to last result)")
    say(f"  sustained rate            {sustained:.1f}/s = {sustained / limit:.1%} of the limit")
    say(f"  mean of full seconds      {mean_full:.1f}/s = {mean_full / limit:.1%} of the limit")
    say(f"  highest whole second      {whole} against {limit:g}{above}")
    say(f"  highest sliding second    {sliding}")
    say(f"  130429 refusals           {throttles(metrics)}")
    cpu.print(say)
    print_database_time({"publisher-whatsapp": metrics}, say)
    return Figures(
        sustained_pct=100 * sustained / limit,
        whole=whole,
        sliding=sliding,
        duplicates=len(stamps) - len(sent),
        failures=failed,
        throttles=throttles(metrics),
        busiest=cpu.busiest(),
    )


async def bench(cfg: StackConfig, limits: list[float], recipients: int) -> list[Figures]:
    return [await one_limit(cfg, limit, recipients) for limit in limits]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_RECIPIENTS} recipients at {QUICK_LIMITS}/s"
    )
    args = parser.parse_args()
    limits, recipients = (QUICK_LIMITS, QUICK_RECIPIENTS) if args.quick else (LIMITS, RECIPIENTS)
    configure_logging(LogSettings(level="WARNING"), service="bench-whatsapp")
    cfg = StackConfig.from_env()
    with stack.shared_infra(cfg):  # reuses a running stack; the last user out stops it
        measured = asyncio.run(bench(cfg, limits, recipients))
    figures: dict[str, Figure] = {
        "recipients": recipients,
        "limits": [f"{limit:g}" for limit in limits],
        "sustained_pct": [round(m.sustained_pct, 1) for m in measured],
        "busiest_whole_s": [m.whole for m in measured],
        "busiest_sliding_s": [m.sliding for m in measured],
        "duplicates": sum(m.duplicates for m in measured),
        "failures": sum(m.failures for m in measured),
        "throttles_130429": sum(m.throttles for m in measured),
        "busiest_process": [m.busiest for m in measured],
    }
    say(result_line(RESULT_KEYS, figures))


if __name__ == "__main__":
    main()
