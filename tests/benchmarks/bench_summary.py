"""How long the scheduler takes to answer the console's Overview (`GET /v1/analytics/summary`)
with N posts' insights snapshots stored, and what reading a period by its buckets, and each
target's latest snapshot only, save.

The summary read every snapshot of the business and applied the period to what it read (3-5 s at
10,000 posts on the local store, whatever the period); then the period's publication weeks and
days, each an equality on a declared index (ADR 0020, "Reading a period"; ADR 0010); now the
same equalities on each target's latest snapshot, kept beside the history (ADR 0020, "The latest
snapshot per target"): a third of the documents.

N posts of one business, published evenly over the last 365 days on three platforms, each with
its three snapshots (1 h, 24 h, 7 d: 3N documents), are written through the scheduler's own store
(`MongoAnalytics.record`, as the insights consumer does, after a first start's backfills). A
scheduler process (`scheduler.testprocess:app_with_fake_auth`, on the shared local stack)
answers the Overview's three periods (7, 28 and 90 days back from now) `--reps` times each; the
median and p95 are printed. Then, in the same run and in this process, the store's reads
themselves: each target's latest by bucket (what the summary reads), every snapshot by bucket
(what it read before), and every snapshot by the whole-business query (what it read first, and
still reads until the buckets' backfill has finished). One line ends it:

    result: snapshots=3N summary_7d_ms=<ms> summary_28d_ms=<ms> summary_90d_ms=<ms> \
        latest_28d_ms=<ms> latest_90d_ms=<ms> \
        store_28d_ms=<ms> whole_28d_ms=<ms> store_90d_ms=<ms> whole_90d_ms=<ms> \
        speedup_28d=<x> speedup_90d=<x>

Nothing is asserted; figures depend on the machine and its load.

    .venv/bin/python tests/benchmarks/bench_summary.py [--posts 10000] [--reps 11] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pymongo import AsyncMongoClient
from resultline import result_line

from herald.events import PostInsightsCollected
from herald.kafka import provision_topics
from herald.mongo import Document
from herald.topics import Platform, TopicNames
from herald_localstack import stack
from herald_localstack.config import StackConfig
from scheduler.analytics.store import BUCKETED, MARKERS, MongoAnalytics
from scheduler.testing import KEY_A, auth, topic_specs
from scheduler.testprocess import ServiceProcess

RESULT_KEYS: tuple[str, ...] = (
    "snapshots",
    "summary_7d_ms",
    "summary_28d_ms",
    "summary_90d_ms",
    "latest_28d_ms",
    "latest_90d_ms",
    "store_28d_ms",
    "whole_28d_ms",
    "store_90d_ms",
    "whole_90d_ms",
    "speedup_28d",
    "speedup_90d",
)
BUSINESS = "biz-a"  # KEY_A's business in app_with_fake_auth
ACCOUNTS = {
    Platform.FACEBOOK: "fb-1",
    Platform.INSTAGRAM: "instagram-1",
    Platform.TIKTOK: "tiktok-1",
}
METRICS: dict[Platform, dict[str, float | dict[str, float]]] = {
    Platform.FACEBOOK: {"post_media_view": 120.0, "post_total_media_view_unique": 80.0},
    Platform.INSTAGRAM: {"views": 90.0, "reach": 70.0, "likes": 9.0, "comments": 2.0},
    Platform.TIKTOK: {"view_count": 300.0, "like_count": 20.0, "comment_count": 3.0},
}
AGES = (3600, 86400, 7 * 86400)
PERIODS = (7, 28, 90)
NOW = datetime.now(UTC).replace(microsecond=0)
CHUNK = 300  # snapshots written at once


def say(line: str) -> None:
    print(line, flush=True)


def snapshots(n: int) -> list[PostInsightsCollected]:
    made: list[PostInsightsCollected] = []
    for i in range(n):
        platform = list(ACCOUNTS)[i % len(ACCOUNTS)]
        published = NOW - timedelta(days=365) * (1 - i / n)
        made.extend(
            PostInsightsCollected(
                post_id=f"post-{i:06d}",
                target_id=f"post-{i:06d}-0",
                business_id=BUSINESS,
                integration_id=ACCOUNTS[platform],
                platform=platform,
                platform_post_id=f"pp-{i}",
                published_at=published,
                age_s=age,
                collected_at=published + timedelta(seconds=age),
                metrics=METRICS[platform],
            )
            for age in AGES
        )
    return made


async def fill(store: MongoAnalytics, n: int) -> float:
    began = time.perf_counter()
    await store.ensure_indexes()
    # A first start's backfills find nothing and write their markers.
    await store.backfill()
    await store.backfill_latest()
    made = snapshots(n)
    for start in range(0, len(made), CHUNK):
        chunk = made[start : start + CHUNK]
        await asyncio.gather(
            *(
                store.record(e, kind=None, event_id=f"e{start + j}", received_at=NOW)
                for j, e in enumerate(chunk)
            )
        )
        if (start + CHUNK) % 6000 == 0:
            say(f"  filled {start + CHUNK} snapshots")
    return time.perf_counter() - began


async def timed(call: Callable[[], Awaitable[object]], reps: int) -> list[float]:
    await call()  # warm: connections, caches, the first plan
    took = []
    for _ in range(reps):
        began = time.perf_counter()
        await call()
        took.append((time.perf_counter() - began) * 1000)
    return took


async def summaries(url: str, reps: int) -> dict[str, list[float]]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:

        def ask(days: int) -> Callable[[], Awaitable[object]]:
            async def call() -> object:
                params = {"from": (NOW - timedelta(days=days)).isoformat(), "to": NOW.isoformat()}
                answer = await http.get("/v1/analytics/summary", params=params, headers=auth(KEY_A))
                if answer.status_code != 200:
                    msg = f"GET /v1/analytics/summary: {answer.status_code} {answer.text[:300]}"
                    raise SystemExit(msg)
                return answer.json()

            return call

        return {f"{d}d": await timed(ask(d), reps) for d in PERIODS}


async def store_reads(
    store: MongoAnalytics, reps: int, *, latest: bool = False
) -> dict[str, list[float]]:
    reader = store.latest_of_business if latest else store.of_business

    def read(days: int) -> Callable[[], Awaitable[object]]:
        return lambda: reader(BUSINESS, (NOW - timedelta(days=days), NOW))

    return {f"{d}d": await timed(read(d), reps) for d in PERIODS[1:]}


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def table(title: str, figures: dict[str, list[float]]) -> None:
    say(title)
    for name, took in figures.items():
        say(f"  {name:<6} median {statistics.median(took):8.1f} ms   p95 {p95(took):8.1f} ms")


async def run(cfg: StackConfig, args: argparse.Namespace) -> None:
    names = TopicNames(prefix=f"bs{uuid.uuid4().hex[:8]}.")
    database = f"bench_summary_{uuid.uuid4().hex[:8]}"
    await provision_topics(cfg.kafka_bootstrap, topic_specs(names))
    client: AsyncMongoClient[Document] = AsyncMongoClient(cfg.mongo_uri, tz_aware=True)
    server: ServiceProcess | None = None
    try:
        say(f"filling {args.posts} posts' snapshots ({3 * args.posts}) of one business")
        seconds = await fill(MongoAnalytics(client[database]), args.posts)
        say(f"  filled in {seconds:.1f} s")
        env = {
            "HERALD_KAFKA_BOOTSTRAP_SERVERS": cfg.kafka_bootstrap,
            "HERALD_MONGO_URI": cfg.mongo_uri,
            "HERALD_SCHEDULER_DATABASE": database,
            "HERALD_SCHEDULER_TOPIC_PREFIX": names.prefix,
            "HERALD_SCHEDULER_CAMPAIGNS__ENABLED": "false",
            "HERALD_LOG_LEVEL": "WARNING",
        }
        log = Path(tempfile.mkdtemp(prefix="bench-summary-")) / "scheduler.log"
        server = await ServiceProcess(env, str(log), fake_auth=True).start()
        answers = await summaries(server.url, args.reps)
        table("the scheduler's answer (GET /v1/analytics/summary, by bucket)", answers)
        server.stop()
        server = None
        latest = await store_reads(MongoAnalytics(client[database]), args.reps, latest=True)
        table("the store's read of each target's latest, by bucket (the summary's read)", latest)
        bucketed = await store_reads(MongoAnalytics(client[database]), args.reps)
        table("the store's read of every snapshot, by bucket (what it read before)", bucketed)
        await client[database][MARKERS].delete_many({"_id": BUCKETED})  # as before the backfill
        whole = await store_reads(MongoAnalytics(client[database]), args.reps)
        table("the store's read, whole business (the query the summary used before)", whole)
    finally:
        if server is not None:
            server.stop()
        await client.drop_database(database)
        await client.close()

    def median(figures: dict[str, list[float]], name: str) -> float:
        return round(statistics.median(figures[name]), 1)

    figures = {
        "snapshots": 3 * args.posts,
        "summary_7d_ms": median(answers, "7d"),
        "summary_28d_ms": median(answers, "28d"),
        "summary_90d_ms": median(answers, "90d"),
        "latest_28d_ms": median(latest, "28d"),
        "latest_90d_ms": median(latest, "90d"),
        "store_28d_ms": median(bucketed, "28d"),
        "whole_28d_ms": median(whole, "28d"),
        "store_90d_ms": median(bucketed, "90d"),
        "whole_90d_ms": median(whole, "90d"),
        "speedup_28d": round(median(whole, "28d") / median(bucketed, "28d"), 2),
        "speedup_90d": round(median(whole, "90d") / median(bucketed, "90d"), 2),
    }
    say(result_line(RESULT_KEYS, figures))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=10_000, help="posts of the business")
    parser.add_argument("--reps", type=int, default=11, help="requests per period")
    parser.add_argument("--quick", action="store_true", help="600 posts, 3 requests each")
    args = parser.parse_args()
    if args.quick:
        args.posts, args.reps = 600, 3
    if args.posts < 100:
        parser.error("--posts needs at least 100")
    return args


def main() -> None:
    args = parse()
    cfg = StackConfig.from_env()
    with stack.shared_infra(cfg):  # a running stack is reused
        asyncio.run(run(cfg, args))


if __name__ == "__main__":
    main()
