"""How long the scheduler takes to answer the listings the console asks for, with N posts stored.

The console's History and Calendar pages each ask the scheduler for one page of posts
(`GET /v1/posts`): the newest 50, a later page by cursor, the posts due in one week (up to 100),
one platform's newest. Issue 22 wants no console page slower than 300 ms of server time with
10,000 posts in the history; the console's own share is a few ms (docs/console.md), so the
scheduler's answer is the figure that matters, and on the local store it was the one that grew:
listing read and sorted the business's whole set (ADR 0010, "Listing").

N posts of one business are written through the scheduler's own store adapter
(`MongoPosts.insert_post`, `insert_targets`: numbered and dated as submissions are), as a year
of use leaves them: created evenly over the last 365 days (27 a day at 10,000), each due 0-14
days after it was created, on four platforms. The week asked for is one 180 days back (about
190 posts due in it, the first 100 asked for). A scheduler process (`scheduler.testprocess
:app_with_fake_auth`, on the shared local stack) answers each request `--reps` times; the median
and p95 are printed. Then, in the same run, the same requests again with the business's post
counter removed, which sends the adapter back to the one whole-business query listing used
before (as it still does for posts stored before pages existed): the ratio is what paging saves
on this machine. One line ends it:

    result: posts=N newest_ms=<ms> deep_ms=<ms> week_ms=<ms> platform_ms=<ms> \
        whole_newest_ms=<ms> whole_week_ms=<ms> speedup_newest=<x> speedup_week=<x>

Nothing is asserted; figures depend on the machine and its load.

    .venv/bin/python tests/benchmarks/bench_listing.py [--posts 10000] [--reps 15] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pymongo import AsyncMongoClient
from resultline import result_line

from herald.events import PostSubmitted
from herald.kafka import provision_topics
from herald.mongo import Document
from herald.topics import Platform, TopicNames
from herald_localstack import stack
from herald_localstack.config import StackConfig
from scheduler.adapters.posts import MongoPosts
from scheduler.domain import DueTime
from scheduler.handlers.submit import new_post, new_targets
from scheduler.testing import KEY_A, auth, topic_specs
from scheduler.testprocess import ServiceProcess

RESULT_KEYS: tuple[str, ...] = (
    "posts",
    "newest_ms",
    "deep_ms",
    "week_ms",
    "platform_ms",
    "whole_newest_ms",
    "whole_week_ms",
    "speedup_newest",
    "speedup_week",
)
BUSINESS = "biz-a"  # KEY_A's business in app_with_fake_auth
ACCOUNTS = {
    Platform.FACEBOOK: "fb-1",
    Platform.INSTAGRAM: "instagram-1",
    Platform.TIKTOK: "tiktok-1",
    Platform.WHATSAPP: "whatsapp-1",
}
NOW = datetime.now(UTC).replace(microsecond=0)
CHUNK = 200  # posts written at once (their numbers are counted in this order)


def say(line: str) -> None:
    print(line, flush=True)


def submission(i: int) -> PostSubmitted:
    platform = list(ACCOUNTS)[i % len(ACCOUNTS)]
    options: dict[str, object] = {"platform": platform.value}
    if platform is Platform.TIKTOK:
        options["privacy_level"] = "SELF_ONLY"
    if platform is Platform.WHATSAPP:
        options["recipients"] = [{"recipient_id": "r1", "to": "+351912345678"}]
    return PostSubmitted.model_validate(
        {
            "business_id": BUSINESS,
            "idempotency_key": f"bench-listing-{i:06d}",
            "content": {"text": f"Listing bench post {i}: a business's history, as stored."},
            "targets": [
                {"integration_id": ACCOUNTS[platform], "platform": platform, "options": options}
            ],
        }
    )


async def fill(posts: MongoPosts, n: int) -> float:
    began = time.perf_counter()
    await posts.ensure_indexes()
    span = timedelta(days=365)
    for start in range(0, n, CHUNK):
        made = []
        for i in range(start, min(start + CHUNK, n)):
            created = NOW - span + span * (i / n)
            due = DueTime(created + timedelta(days=i % 15), None, None)
            made.append(
                new_post(submission(i), due, "bench", source="api", draft=False, now=created)
            )
        await asyncio.gather(*(posts.insert_post(p) for p in made))
        await asyncio.gather(*(posts.insert_targets(new_targets(p)) for p in made))
        if (start + CHUNK) % 2000 == 0:
            say(f"  filled {start + CHUNK} posts")
    return time.perf_counter() - began


async def timed(http: httpx.AsyncClient, params: dict[str, str], reps: int) -> list[float]:
    took = []
    for _ in range(reps):
        began = time.perf_counter()
        answer = await http.get("/v1/posts", params=params, headers=auth(KEY_A))
        took.append((time.perf_counter() - began) * 1000)
        if answer.status_code != 200:
            msg = f"GET /v1/posts {params}: {answer.status_code} {answer.text[:300]}"
            raise SystemExit(msg)
    return took


async def deep_cursor(http: httpx.AsyncClient, pages: int) -> str:
    """The cursor of the listing's page after `pages` pages of 50."""
    cursor = ""
    for _ in range(pages):
        params = {"limit": "50"} | ({"cursor": cursor} if cursor else {})
        body = (await http.get("/v1/posts", params=params, headers=auth(KEY_A))).json()
        cursor = body["next_cursor"]
    return cursor


async def measure(url: str, reps: int, cursor: str) -> dict[str, list[float]]:
    week_from = NOW - timedelta(days=180)
    requests = {
        "newest": {"limit": "50"},
        "deep": {"limit": "50", "cursor": cursor},
        "week": {
            "limit": "100",
            "due_from": week_from.isoformat(),
            "due_to": (week_from + timedelta(days=7)).isoformat(),
        },
        "platform": {"limit": "50", "platform": Platform.INSTAGRAM.value},
    }
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        for params in requests.values():  # warm: connections, caches, the first plan
            await timed(http, params, 1)
        return {name: await timed(http, params, reps) for name, params in requests.items()}


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.95 * len(values)) - 1)]


def table(title: str, figures: dict[str, list[float]]) -> None:
    say(title)
    for name, took in figures.items():
        say(f"  {name:<10} median {statistics.median(took):8.1f} ms   p95 {p95(took):8.1f} ms")


async def run(cfg: StackConfig, args: argparse.Namespace) -> None:
    names = TopicNames(prefix=f"bl{uuid.uuid4().hex[:8]}.")
    database = f"bench_listing_{uuid.uuid4().hex[:8]}"
    await provision_topics(cfg.kafka_bootstrap, topic_specs(names))
    client: AsyncMongoClient[Document] = AsyncMongoClient(cfg.mongo_uri, tz_aware=True)
    server: ServiceProcess | None = None
    try:
        say(f"filling {args.posts} posts of one business")
        seconds = await fill(MongoPosts(client[database]), args.posts)
        say(f"  filled in {seconds:.1f} s")
        env = {
            "HERALD_KAFKA_BOOTSTRAP_SERVERS": cfg.kafka_bootstrap,
            "HERALD_MONGO_URI": cfg.mongo_uri,
            "HERALD_SCHEDULER_DATABASE": database,
            "HERALD_SCHEDULER_TOPIC_PREFIX": names.prefix,
            "HERALD_SCHEDULER_CAMPAIGNS__ENABLED": "false",
            "HERALD_LOG_LEVEL": "WARNING",
        }
        log = Path(tempfile.mkdtemp(prefix="bench-listing-")) / "scheduler.log"
        server = await ServiceProcess(env, str(log), fake_auth=True).start()
        async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
            cursor = await deep_cursor(http, min(10, max(1, args.posts // 50 - 1)))
        paged = await measure(server.url, args.reps, cursor)
        table("paged (each post numbered and dated: the store reads a few pages)", paged)
        await client[database]["post_pages"].delete_many({"_id": BUSINESS})
        whole = await measure(server.url, args.reps, cursor)
        table("whole business (the query listing used before pages)", whole)
    finally:
        if server is not None:
            server.stop()
        await client.drop_database(database)
        await client.close()

    def median(figures: dict[str, list[float]], name: str) -> float:
        return round(statistics.median(figures[name]), 1)

    figures = {
        "posts": args.posts,
        "newest_ms": median(paged, "newest"),
        "deep_ms": median(paged, "deep"),
        "week_ms": median(paged, "week"),
        "platform_ms": median(paged, "platform"),
        "whole_newest_ms": median(whole, "newest"),
        "whole_week_ms": median(whole, "week"),
        "speedup_newest": round(median(whole, "newest") / median(paged, "newest"), 2),
        "speedup_week": round(median(whole, "week") / median(paged, "week"), 2),
    }
    say(result_line(RESULT_KEYS, figures))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=10_000, help="posts of the business")
    parser.add_argument("--reps", type=int, default=15, help="requests per listing")
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
