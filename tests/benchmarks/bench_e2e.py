"""Posts per second from submit to `published`, through the whole system on this machine.

Every service runs as its own process (as `make up` runs them) on the real Kafka and FerretDB, in
a namespace of its own; the sandbox's Facebook Page is connected through OAuth; N text posts are
submitted through the scheduler's API (32 at a time) and the clock stops when the scheduler has
recorded every one as published (its results counter, read from `/metrics`, which costs the
database nothing; polling N posts would load the very store being measured). Then every post is
read back through the API and the sandbox's ledger is counted. The Facebook publisher runs with
`concurrency` consumers (HERALD_BENCH_FB_CONCURRENCY, default 12, one per partition; the
service's default is 1). The load generator sends 32 requests at a time on aiohttp's connection
handling (HERALD_BENCH_LOADGEN_TRANSPORT), the cheaper of the two for this process.

A 429 or 503 from the API is backpressure (`backpressure.py`): the request waits as `Retry-After`
says and goes again with its Idempotency-Key; the refusals are counted and printed. A run in which
some post was not published, or not read back as published, exits with status 1.
The posts go round-robin to `--pages` Facebook Pages of the business (HERALD_BENCH_PAGES,
default 8; the extra Pages are made on the sandbox before its OAuth flow finds them all): one
Page's requests share one partition and are handled in order, one at a time (per-account order,
ADR 0004), so a single Page measures one partition's latency, not the system's throughput;
`--pages 1` does that.
`--stored N` (HERALD_BENCH_STORED) then measures again on the same services, once the business
holds N finished posts (`prefill.py` copies the documents the first measurement's posts left in
the scheduler's and the publisher's databases), and prints the ratio of the two rates: what a
store grown by months of use costs (measured once the store has settled after the copy: its
autovacuum, see `_settle`).
HERALD_BENCH_KEEP_METRICS=<dir> writes every service's `/metrics` after each measurement there.
Before the first measurement `--warmup` posts (HERALD_BENCH_WARMUP, default 200) are published
and not measured: a Kafka just started compiles its hot paths during the first thousand
requests, which cost the first measurement about 5 ms of Kafka's CPU a post (`--warmup 0`
measures that too). The fresh measurement's business then holds those posts.
`--quick` (20 posts, 500 stored, no warm-up; only the services a Facebook post passes through)
checks in seconds that the whole path still works; `make test` runs it
(tests/benchmarks/test_quick.py).

    HERALD_BENCH_POSTS=2000 HERALD_BENCH_STORED=50000 python tests/benchmarks/bench_e2e.py
    python tests/benchmarks/bench_e2e.py --quick
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import time
import uuid
from collections import Counter
from typing import Any

import httpx
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner
from backpressure import Backpressure
from cpu import CpuWatch
from dbtime import print_database_time
from httpx_aiohttp import AiohttpTransport
from prefill import prefill
from prometheus_client.parser import text_string_to_metric_families
from pymongo import AsyncMongoClient
from resultline import result_line

from herald.topics import DEFAULT_PARTITIONS, TopicNames
from herald_localstack import demo, services, stack
from herald_localstack.config import StackConfig
from herald_localstack.process import port_taken
from herald_localstack.secrets import StackSecrets
from herald_localstack.system import System

RESULT_KEYS: tuple[str, ...] = (
    "posts",
    "warmup",
    "pages",
    "partitions_used",
    "partitions_by_hash",
    "accepted_per_s",
    "published_per_s",
    "published_s",
    "visible",
    "read_published",
    "refusals",
    "refused_wait_s",
    "busiest_process",
    "stored",
    "stored_published_per_s",
    "stored_ratio",
)
POSTS = int(os.environ.get("HERALD_BENCH_POSTS", "2000"))
STORED = int(os.environ.get("HERALD_BENCH_STORED", "0"))
PAGES = int(os.environ.get("HERALD_BENCH_PAGES", "8"))
WARMUP = int(os.environ.get("HERALD_BENCH_WARMUP", "200"))
QUICK_POSTS = 20
QUICK_STORED = 500
TEMPLATES = 20  # warm-up posts whose documents the stored posts are copied from
# What a Facebook text post passes through; the other publishers only cost start-up time.
QUICK_SERVICES = ("platform-sandbox", "auth-service", "scheduler", "publisher-facebook")
CONCURRENCY = 32
# One handler per partition of post.requested.facebook (12 on the local stack): a publisher
# replica cannot use more, and on this store fewer leave CPU idle while requests wait on I/O.
FB_CONCURRENCY = os.environ.get("HERALD_BENCH_FB_CONCURRENCY", "12")
LOADGEN_TRANSPORT = os.environ.get("HERALD_BENCH_LOADGEN_TRANSPORT", "aiohttp")


def _cfg() -> StackConfig:
    base = StackConfig.from_env()
    for offset in range(700, 5000, 47):
        cfg = dataclasses.replace(
            base,
            run_dir=base.run_dir / f"bench-e2e-{uuid.uuid4().hex[:6]}",
            service_port_offset=offset,
            namespace=f"bench{uuid.uuid4().hex[:8]}",
        )
        if not any(port_taken(services.port(cfg, s)) for s in services.SERVICES):
            return cfg
    msg = "no free range of service ports"
    raise RuntimeError(msg)


async def _submit(
    scheduler: str, key: str, pages: list[str], run: str, *, posts: int, refused: Backpressure
) -> list[str]:
    limit = asyncio.Semaphore(CONCURRENCY)
    headers = {"Authorization": f"Bearer {key}"}

    async def one(client: httpx.AsyncClient, i: int) -> str:
        body = {
            "content": {"text": f"Bench post {i} herald-marker:{run}x{i}"},
            "targets": [{"integration_id": pages[i % len(pages)], "platform": "facebook"}],
        }
        async with limit:  # a request waiting out a refusal keeps its place: 32 at a time
            response = await refused.send(
                lambda: client.post(
                    f"{scheduler}/v1/posts",
                    json=body,
                    headers={**headers, "Idempotency-Key": f"{run}-{i}"},
                )
            )
        response.raise_for_status()
        post_id: str = response.json()["post_id"]
        return post_id

    async with _client(timeout_s=60) as client:
        return list(await asyncio.gather(*(one(client, i) for i in range(posts))))


def _client(timeout_s: float) -> httpx.AsyncClient:
    """The load generator's client: httpx's API on aiohttp's connection handling by default
    (HERALD_BENCH_LOADGEN_TRANSPORT=httpx for httpx's own), which costs this process less CPU
    per request; on two cores, what the load generator burns the services cannot use."""
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    transport = AiohttpTransport(limits=limits) if LOADGEN_TRANSPORT == "aiohttp" else None
    return httpx.AsyncClient(timeout=timeout_s, limits=limits, transport=transport)


def _published_count(scheduler: str) -> float:
    """Targets the scheduler has recorded as published (its results counter): reading it costs
    the database nothing, so watching does not slow what is watched."""
    text = httpx.get(f"{scheduler}/metrics", timeout=30).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "herald_scheduler_results_total"
                and sample.labels.get("effect") == "published"
            ):
                return sample.value
    return 0.0


def _wait_published(scheduler: str, posts: float, timeout_s: float) -> float:
    """Until the results counter reaches `posts`; polled twice a second, so the watching costs
    the scheduler (rendering /metrics) and the load generator (parsing it) little."""
    deadline = time.monotonic() + timeout_s
    while _published_count(scheduler) < posts:
        if time.monotonic() > deadline:
            msg = f"{posts - _published_count(scheduler):.0f} posts not published in {timeout_s}s"
            raise RuntimeError(msg)
        time.sleep(0.5)
    return time.perf_counter()


async def _statuses(
    scheduler: str, key: str, post_ids: list[str], refused: Backpressure
) -> Counter[str]:
    """Every post's status as the API shows it (read after the clock stopped)."""
    limit = asyncio.Semaphore(CONCURRENCY)
    headers = {"Authorization": f"Bearer {key}"}

    async def one(client: httpx.AsyncClient, post_id: str) -> str:
        url = f"{scheduler}/v1/posts/{post_id}"
        async with limit:
            response = await refused.send(lambda: client.get(url, headers=headers))
        response.raise_for_status()
        status: str = response.json()["status"]
        return status

    async with _client(timeout_s=120) as client:
        return Counter(await asyncio.gather(*(one(client, p) for p in post_ids)))


def _more_pages(http: httpx.Client, sandbox: str, count: int) -> None:
    """Pages of the sandbox's demo user beyond its one: its OAuth flow then finds them all."""
    user = http.get(f"{sandbox}/_sandbox/accounts").raise_for_status().json()["demo"]["user_id"]
    for n in range(count):
        body = {"name": f"Herald Bench Page {n + 2}", "owner_user_id": user}
        http.post(f"{sandbox}/_sandbox/facebook/pages", json=body).raise_for_status()


def _partitions_used(integration_ids: list[str]) -> int:
    """How many partitions the requests of these integrations would land on placed by their
    key (Kafka's default partitioner: murmur2), as before lanes (ADR 0025)."""
    return len(_hash_places(integration_ids))


def _hash_places(integration_ids: list[str]) -> set[int]:
    partitions = list(range(DEFAULT_PARTITIONS))
    place = DefaultPartitioner()
    return {place(i.encode(), partitions, partitions) for i in integration_ids}


def _metrics(system: System) -> dict[str, str]:
    found = {}
    for service in (s.name for s in services.SERVICES):
        with contextlib.suppress(httpx.HTTPError):
            found[service] = httpx.get(f"{system.url(service)}/metrics", timeout=10).text
    return found


async def _remove_namespace(cfg: StackConfig) -> None:
    """The run's topics and databases: runs in every `make test` must not pile them up."""
    admin = AIOKafkaAdminClient(bootstrap_servers=cfg.kafka_bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([t.name for t in TopicNames(prefix=cfg.topic_prefix).plan()])
    finally:
        await admin.close()
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(cfg.mongo_uri)
    try:
        for name in await mongo.list_database_names():
            if name.startswith(f"{cfg.namespace}_"):
                await mongo.drop_database(name)
    finally:
        await mongo.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=POSTS, help="Facebook text posts to submit")
    parser.add_argument(
        "--stored", type=int, default=STORED, help="measure again with this many posts stored"
    )
    parser.add_argument("--pages", type=int, default=PAGES, help="Facebook Pages posted to")
    parser.add_argument(
        "--warmup", type=int, default=WARMUP, help="posts published first, not measured"
    )
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_POSTS} posts, in seconds")
    args = parser.parse_args()
    posts = QUICK_POSTS if args.quick else args.posts
    stored = QUICK_STORED if args.quick else args.stored
    warmup = 0 if args.quick else args.warmup
    if args.pages < 1 or warmup < 0:
        parser.error("--pages must be at least 1 and --warmup at least 0")
    with stack.shared_infra(StackConfig.from_env()):  # a running stack is reused
        figures, complete = _run(
            posts,
            pages=args.pages,
            stored=stored,
            warmup=warmup,
            only=QUICK_SERVICES if args.quick else None,
            publish_timeout_s=180 if args.quick else 1800,
        )
    print(result_line(RESULT_KEYS, figures))
    return 0 if complete else 1


@dataclasses.dataclass
class Bench:
    cfg: StackConfig
    system: System
    key: str
    pages: list[str]
    timeout_s: float
    refused: Backpressure = dataclasses.field(default_factory=Backpressure)
    counted: float = 0.0  # the scheduler's published counter before a measurement

    @property
    def scheduler(self) -> str:
        return self.system.url("scheduler")

    def warm(self, posts: int) -> None:
        """Publish `posts` before measuring, not counted: a Kafka just started compiles its hot
        paths as the first thousand requests go through it (9 ms of its CPU a post in a cold
        run against 4 ms warm), and every service makes its first connections."""
        if posts == 0:
            return
        began = time.perf_counter()
        asyncio.run(
            _submit(self.scheduler, self.key, self.pages, "warm", posts=posts, refused=self.refused)
        )
        _wait_published(self.scheduler, self.counted + posts, self.timeout_s)
        self.counted = _published_count(self.scheduler)
        self.refused = Backpressure()  # the measurement's own refusals only
        took = time.perf_counter() - began
        print(f"warm-up: {posts} posts published in {took:.1f} s (not measured)")

    def measure(self, posts: int, stored: int) -> tuple[dict[str, float | int | str], list[str]]:
        run = uuid.uuid4().hex[:8]
        cpu = CpuWatch()
        cpu.start()
        started = time.perf_counter()
        post_ids = asyncio.run(
            _submit(self.scheduler, self.key, self.pages, run, posts=posts, refused=self.refused)
        )
        submitted = time.perf_counter()
        finished = _wait_published(self.scheduler, self.counted + posts, self.timeout_s)
        cpu.stop()
        self.counted = _published_count(self.scheduler)
        statuses = asyncio.run(_statuses(self.scheduler, self.key, post_ids, self.refused))
        ledger = httpx.get(
            f"{self.system.url('platform-sandbox')}/_sandbox/ledger",
            params={"platform": "facebook"},
            timeout=60,
        ).json()
        visible = sum(1 for e in ledger["entries"] if str(e.get("marker", "")).startswith(run))
        total, accepting = finished - started, submitted - started
        print(f"bench_e2e: {posts} Facebook text posts, {os.cpu_count()} cores, one process each")
        print(f"  Facebook Pages posted to, round-robin: {len(self.pages)}")
        hashed = _partitions_used(self.pages)
        lanes = asyncio.run(self._partitions_by_lane())
        print(
            f"  partitions of post.requested.facebook the Pages' requests use: {lanes} of "
            f"{DEFAULT_PARTITIONS} by their lanes (ADR 0025), {hashed} by their keys' hash "
            "(a partition's requests are handled one at a time)"
        )
        print(f"  posts of the business already stored: {stored}")
        print(f"  services: {', '.join(self.system.processes)}")
        print(f"  publisher-facebook concurrency {FB_CONCURRENCY}")
        print(f"  load generator: {CONCURRENCY} requests at a time, on {LOADGEN_TRANSPORT}")
        print(f"  submitted in {accepting:6.1f} s  ({posts / accepting:7.1f} posts/s accepted)")
        print(f"  published in {total:6.1f} s  ({posts / total:7.1f} posts/s submit-to-published)")
        print(f"  visible publishes on the sandbox: {visible} (expected {posts})")
        print(f"  statuses read back through the API: {dict(statuses)}")
        print(
            f"  refused (429/503) and retried: {self.refused.refusals} times, "
            f"{self.refused.waited_s:.1f} s waited in all"
        )
        cpu.print()
        top = int(os.environ.get("HERALD_BENCH_DB_TOP", "12"))
        scraped = _metrics(self.system)
        print_database_time(scraped, top=top)
        if kept := os.environ.get("HERALD_BENCH_KEEP_METRICS"):  # a directory: each /metrics
            os.makedirs(kept, exist_ok=True)
            for service, text in scraped.items():
                with open(os.path.join(kept, f"{service}-{stored}.prom"), "w") as out:
                    out.write(text)
        figures: dict[str, float | int | str] = {
            "posts": posts,
            "pages": len(self.pages),
            "partitions_used": lanes,
            "partitions_by_hash": hashed,
            "accepted_per_s": posts / accepting,
            "published_per_s": posts / total,
            "published_s": total,
            "visible": visible,
            "read_published": statuses.get("published", 0),
            "refusals": self.refused.refusals,
            "refused_wait_s": self.refused.waited_s,
            "busiest_process": cpu.busiest().replace(" ", "_"),
        }
        return figures, post_ids

    async def _partitions_by_lane(self) -> int:
        """The partitions the Pages' lanes place their requests on; a Page without a lane
        counts where its key's hash places it."""
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self.cfg.mongo_uri)
        try:
            view = mongo[self.cfg.database("herald_scheduler")]["integrations"]
            docs = await view.find({"_id": {"$in": self.pages}}).to_list()
        finally:
            await mongo.close()
        lanes = {d["_id"]: d["lane"] for d in docs if isinstance(d.get("lane"), int)}
        places = [lanes[p] % DEFAULT_PARTITIONS for p in self.pages if p in lanes]
        unplaced = [p for p in self.pages if p not in lanes]
        return len(set(places) | _hash_places(unplaced))

    def store(self, templates: list[str], count: int) -> None:
        """Copy the documents the `templates` posts left until `count` more posts exist."""
        databases = [
            self.cfg.database("herald_scheduler"),
            self.cfg.database("herald_publisher_facebook"),
        ]
        seconds = asyncio.run(prefill(self.cfg.mongo_uri, databases, templates, count))
        print(f"  copied the documents of {len(templates)} posts {count} times in {seconds:.0f} s")
        print(f"  the store settled in {_settle():.0f} s (its work after the copy, not measured)")


def _settle(quiet_core: float = 0.1, longest_s: float = 180.0) -> float:
    """Wait until PostgreSQL and FerretDB use less than `quiet_core` of a core over 3 s: after
    tens of thousands of inserts PostgreSQL's autovacuum may analyse and vacuum the tables, work
    a store that grew over months has long done (PostgreSQL's CPU doubled in one measurement
    that followed the copy at once; in the runs since, the store was quiet within 3 s). Returns
    the seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < longest_s:
        watch = CpuWatch()
        watch.start()
        time.sleep(3.0)
        used = watch.stop()
        if used.get("postgres", 0.0) + used.get("ferretdb", 0.0) < quiet_core * watch.wall_s:
            break
    return time.monotonic() - began


def _run(
    posts: int,
    *,
    pages: int,
    stored: int,
    warmup: int,
    only: tuple[str, ...] | None,
    publish_timeout_s: float,
) -> tuple[dict[str, float | int | str], bool]:
    """Measure on fresh databases (after `warmup` posts, published and not measured); then, with
    `stored`, copy the measured posts' documents until the business holds `stored` posts and
    measure again on the same services."""
    cfg = _cfg()
    stack.provision(cfg)
    system = System(cfg)
    try:
        for service in services.SERVICES:
            if only is not None and service.name not in only:
                continue
            extra = {f"{service.env_prefix}CONCURRENCY": FB_CONCURRENCY}
            system.start(
                service.name, extra_env=extra if service.name == "publisher-facebook" else None
            )
        keys = StackSecrets.load_or_create(cfg.run_dir)
        with httpx.Client(timeout=30) as http:
            auth = system.url("auth-service")
            made = demo.ensure_business(
                http, cfg.run_dir / "demo.json", auth, keys.admin_token, lambda _: None
            )
            _more_pages(http, system.url("platform-sandbox"), pages - 1)
            found = demo.connect_all(http, auth, made.api_key, "facebook")
        bench = Bench(cfg, system, made.api_key, found[:pages], publish_timeout_s)
        bench.warm(warmup)
        figures, post_ids = bench.measure(posts, stored=warmup)
        complete = figures["visible"] == posts and figures["read_published"] == posts
        figures |= {"warmup": warmup, "stored": 0, "stored_published_per_s": "-"}
        figures |= {"stored_ratio": "-"}
        if stored > posts + warmup:
            print(f"== again, with {stored} posts of the same business already stored")
            bench.store(post_ids[:TEMPLATES], stored - posts - warmup)
            again, _ = bench.measure(posts, stored=stored)
            complete = complete and again["visible"] == posts
            complete = complete and again["read_published"] == posts
            rate = float(again["published_per_s"])
            ratio = rate / float(figures["published_per_s"])
            figures |= {"stored": stored, "stored_published_per_s": rate, "stored_ratio": ratio}
            print(f"  stored/fresh submit-to-published: {ratio:.2f}")
    finally:
        system.stop_all()
        asyncio.run(_remove_namespace(cfg))
    return figures, complete


if __name__ == "__main__":
    raise SystemExit(main())
