"""Publisher runtime vs a bare aiokafka loop doing the same work, in one run on this machine.

Each variant consumes the same number of `post.requested` events from fresh topics, calls the
same loopback HTTP stub, writes to MongoDB (FerretDB), produces a `post.published` result and
commits. Printed: throughput of each variant and the ratios runtime / bare, for the default httpx
transport and for httpx on aiohttp (`httpx-aiohttp`). Two bare baselines are shown: one with the
runtime's own ledger protocol (lease, begin, complete, release: the framework's cost alone) and
one with a single Mongo write (the least any loop could do). Each variant's topics are exactly
publisher-facebook's own (`TopicNames.for_service`), which the runtime waits for at start-up.
`--quick` (100 messages) checks in seconds that every variant still runs; `make test` runs it.

    HERALD_BENCH_MESSAGES=2000 python tests/benchmarks/bench_runtime.py [--messages N] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from resultline import result_line

from herald.cloudevents import encode
from herald.events import PostPublished, PostRequested
from herald.http import HttpClientSettings, new_http_client
from herald.kafka import provision_topics
from herald.ledger import MongoLedger
from herald.logging import configure_logging
from herald.mongo import new_mongo_client
from herald.runtime.app import build_publisher
from herald.runtime.ports import Checkpoint, Credentials, Outcome, Published
from herald.runtime.settings import PublisherSettings, RetrySettings
from herald.settings import HttpServerSettings, KafkaSettings, LogSettings, MongoSettings
from herald.testing import StaticTokens
from herald.testkit import post_requested, running
from herald.testkit.servers import free_port
from herald.topics import Platform, TopicNames, TopicSpec, publisher
from herald_localstack import stack
from herald_localstack.config import StackConfig

RESULT_KEYS: tuple[str, ...] = (
    "messages",
    "runtime_httpx_mps",
    "runtime_aiohttp_mps",
    "bare_ledger_httpx_mps",
    "bare_min_httpx_mps",
    "runtime_vs_bare_ledger_httpx",
    "runtime_vs_bare_ledger_aiohttp",
    "aiohttp_vs_httpx",
)
MESSAGES = int(os.environ.get("HERALD_BENCH_MESSAGES", "2000"))
QUICK_MESSAGES = 40
PARTITIONS = 4
TIERS = {"10s": 10}


class StubPlatform:
    name = Platform.FACEBOOK

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self._http, self._url = http, url

    def validate(self, request: PostRequested) -> list[Any]:
        return []

    async def publish(
        self, request: PostRequested, credentials: Credentials, checkpoint: Checkpoint
    ) -> Outcome:
        response = await self._http.post(self._url, data={"message": request.content.text or ""})
        return Published(str(response.json()["id"]))


def _plan(names: TopicNames) -> list[TopicSpec]:
    return names.for_service(publisher(Platform.FACEBOOK)).plan(PARTITIONS)


async def _fresh_topics(bootstrap: str, messages: int) -> TopicNames:
    names = TopicNames(prefix=f"bench{uuid.uuid4().hex[:8]}.", tiers=TIERS)
    await provision_topics(bootstrap, _plan(names))
    client = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    await client.start()
    try:
        sends = []
        for i in range(messages):
            body, headers = encode(
                post_requested(f"t{i}", integration_id=f"acct-{i % 64}"), source="bench"
            )
            sends.append(
                await client.send(
                    names.requested(Platform.FACEBOOK),
                    body,
                    key=f"acct-{i % 64}".encode(),
                    headers=[(k, v.encode()) for k, v in headers.items()],
                )
            )
        await asyncio.gather(*sends)
    finally:
        await client.stop()
    return names


async def _count_results(bootstrap: str, topic: str, until: int) -> float:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    seen = 0
    try:
        async for _ in consumer:
            seen += 1
            if seen >= until:
                return time.perf_counter()
    finally:
        await consumer.stop()
    msg = "results stream ended early"
    raise RuntimeError(msg)


@dataclass
class BareWork:
    bootstrap: str
    http: httpx.AsyncClient
    url: str
    db: Any
    messages: int

    async def run(self, names: TopicNames, _done: Awaitable[float], *, ledger_ops: bool) -> None:
        consumer = AIOKafkaConsumer(
            names.requested(Platform.FACEBOOK),
            bootstrap_servers=self.bootstrap,
            group_id=f"{names.prefix}bare",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True
        )
        await consumer.start()
        await producer.start()
        try:
            done = 0
            async for record in consumer:
                await self._one(record, names, producer, ledger_ops=ledger_ops)
                await consumer.commit(
                    {TopicPartition(record.topic, record.partition): record.offset + 1}
                )
                done += 1
                if done >= self.messages:
                    return
        finally:
            await consumer.stop()
            await producer.stop()

    async def _one(
        self, record: Any, names: TopicNames, producer: AIOKafkaProducer, *, ledger_ops: bool
    ) -> None:
        request = PostRequested.model_validate_json(record.value)
        response = await self.http.post(self.url, data={"message": request.content.text or ""})
        post_id = str(response.json()["id"])
        now = datetime.now(UTC)
        if ledger_ops:
            ledger = MongoLedger(self.db)
            lease = await ledger.acquire(request.target_id)
            assert lease is not None
            await ledger.begin(request, 1)
            await ledger.complete(lease, {"platform_post_id": post_id, "published_at": now})
            await ledger.release(lease)
        else:
            update = {"$set": {"state": "published", "post_id": post_id}}
            await self.db["ledger"].update_one({"_id": request.target_id}, update, upsert=True)
        ref = request.model_dump(
            include={"post_id", "target_id", "business_id", "integration_id", "platform"}
        )
        event = PostPublished(**ref, attempt=1, platform_post_id=post_id, published_at=now)
        body, headers = encode(event, source="bench")
        raw_headers = [(k, v.encode()) for k, v in headers.items()]
        await producer.send_and_wait(
            names.post_results, body, key=request.post_id.encode(), headers=raw_headers
        )


async def _runtime(
    bootstrap: str,
    mongo_uri: str,
    names: TopicNames,
    results_done: Awaitable[float],
    *,
    http: httpx.AsyncClient,
    url: str,
    database: str,
) -> float:
    settings = PublisherSettings(
        http=HttpServerSettings(port=1),
        database=database,
        kafka=KafkaSettings(bootstrap_servers=bootstrap),
        mongo=MongoSettings(uri=mongo_uri),
        retry=RetrySettings(max_attempts=1, backoff_s=[]),
        topic_prefix=names.prefix,
    )
    platform = StubPlatform(http, url)
    app = build_publisher(platform.name, settings, tokens=StaticTokens(), names=names).app(platform)
    async with running(app):
        return await results_done


async def _measure(
    label: str,
    run: Callable[[TopicNames, Awaitable[float]], Awaitable[Any]],
    bootstrap: str,
    messages: int,
) -> float:
    names = await _fresh_topics(bootstrap, messages)
    counter = asyncio.create_task(_count_results(bootstrap, names.post_results, messages))
    started = time.perf_counter()
    await run(names, counter)
    finished = await counter
    rate = messages / (finished - started)
    print(f"  {label:<44} {rate:8.0f} msg/s  ({finished - started:5.2f} s)", flush=True)
    await _delete(bootstrap, names)
    return rate


async def _delete(bootstrap: str, names: TopicNames) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([t.name for t in _plan(names)])
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=MESSAGES, help="per variant")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_MESSAGES} messages")
    args = parser.parse_args()
    messages = QUICK_MESSAGES if args.quick else args.messages
    configure_logging(LogSettings(level="WARNING", format="console"), service="bench")
    cfg = StackConfig.from_env()
    with stack.shared_infra(cfg):  # reuses a running stack; the last user out stops it
        rates = asyncio.run(_bench(cfg, messages))
    figures = {
        "messages": messages,
        "runtime_httpx_mps": rates["runtime/httpx"],
        "runtime_aiohttp_mps": rates["runtime/aiohttp"],
        "bare_ledger_httpx_mps": rates["bare-ledger/httpx"],
        "bare_min_httpx_mps": rates["bare-min/httpx"],
        "runtime_vs_bare_ledger_httpx": rates["runtime/httpx"] / rates["bare-ledger/httpx"],
        "runtime_vs_bare_ledger_aiohttp": rates["runtime/aiohttp"] / rates["bare-ledger/aiohttp"],
        "aiohttp_vs_httpx": rates["runtime/aiohttp"] / rates["runtime/httpx"],
    }
    print(result_line(RESULT_KEYS, figures))


async def _bench(cfg: StackConfig, messages: int) -> dict[str, float]:
    port = free_port()
    stub_script = str(Path(__file__).with_name("http_stub.py"))
    stub = await asyncio.create_subprocess_exec(sys.executable, stub_script, str(port))
    url = f"http://127.0.0.1:{port}/publish"
    mongo = new_mongo_client(MongoSettings(uri=cfg.mongo_uri), app_name="bench")
    try:
        await _wait_for_stub(url)
        cores = os.cpu_count()
        print(f"bench_runtime: {messages} messages, {PARTITIONS} partitions, {cores} cores")
        rates: dict[str, float] = {}
        for transport in ("httpx", "aiohttp"):
            rates.update(await _variants(cfg, mongo, url, transport, messages))
        for transport in ("httpx", "aiohttp"):
            runtime = rates[f"runtime/{transport}"]
            ledger = runtime / rates[f"bare-ledger/{transport}"]
            minimal = runtime / rates[f"bare-min/{transport}"]
            print(f"  ratio runtime / bare-ledger ({transport}): {ledger:.2f}")
            print(f"  ratio runtime / bare-min ({transport}):    {minimal:.2f}")
        speedup = rates["runtime/aiohttp"] / rates["runtime/httpx"]
        print(f"  runtime on aiohttp / runtime on httpx: {speedup:.2f}")
        return rates
    finally:
        stub.terminate()
        await stub.wait()
        await mongo.close()


async def _variants(
    cfg: StackConfig,
    mongo: Any,
    url: str,
    transport: Literal["httpx", "aiohttp"],
    messages: int,
) -> dict[str, float]:
    http = new_http_client(HttpClientSettings(transport=transport), service="bench")
    bare_db, runtime_db = (mongo[f"bench{uuid.uuid4().hex[:8]}"] for _ in range(2))
    work = BareWork(cfg.kafka_bootstrap, http, url, bare_db, messages)
    rates: dict[str, float] = {}
    try:
        rates[f"bare-min/{transport}"] = await _measure(
            f"bare loop, one Mongo write ({transport})",
            partial(work.run, ledger_ops=False),
            cfg.kafka_bootstrap,
            messages,
        )
        rates[f"bare-ledger/{transport}"] = await _measure(
            f"bare loop, ledger protocol ({transport})",
            partial(work.run, ledger_ops=True),
            cfg.kafka_bootstrap,
            messages,
        )
        runtime = partial(
            _runtime,
            cfg.kafka_bootstrap,
            cfg.mongo_uri,
            http=http,
            url=url,
            database=runtime_db.name,
        )
        rates[f"runtime/{transport}"] = await _measure(
            f"publisher runtime ({transport})", runtime, cfg.kafka_bootstrap, messages
        )
    finally:
        await http.aclose()
        await mongo.drop_database(bare_db.name)
        await mongo.drop_database(runtime_db.name)
    return rates


async def _wait_for_stub(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(100):
            try:
                await client.post(url)
            except httpx.TransportError:
                await asyncio.sleep(0.1)
            else:
                return
    msg = "the HTTP stub did not start"
    raise RuntimeError(msg)


if __name__ == "__main__":
    main()
