"""publisher-facebook throughput with 1, 2 and 3 replicas on the same partitions, in one run.

What a platform team gets from KEDA adding pods (docs/deploy-kubernetes.md): the replicas join
one consumer group and share the request topic's 12 partitions. For each count, the replicas are
started, the group settles and one post per Page warms them up (tokens, connections), then
`--messages` Facebook text posts (12 Pages, round-robin) are produced to
`post.requested.facebook` and timed until each has its `post.published` on `post.results`.
The next count adds one replica to the running ones, as KEDA adds a pod. Each replica runs one
consumer (`CONCURRENCY`, the service's default), so one process handles one request at a time
and replicas add parallel requests; on a 2-core machine shared by Kafka, FerretDB, PostgreSQL,
the sandbox and auth-service, the CPU caps the gain. Printed: posts/s per count, the ratios to
one replica, and what the sandbox shows (each post exactly once). `--quick` checks in seconds
that it still runs; `make test` runs it.

    python tests/benchmarks/bench_replicas.py [--messages N] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid

from cpu import CpuWatch
from facebook_replicas import Fleet, fleet
from resultline import result_line

from herald.logging import configure_logging
from herald.settings import LogSettings
from herald_localstack import stack
from herald_localstack.config import StackConfig

RESULT_KEYS: tuple[str, ...] = (
    "messages",
    "pages",
    "concurrency",
    "one_per_s",
    "two_per_s",
    "three_per_s",
    "two_vs_one",
    "three_vs_one",
    "visible_once",
    "duplicated",
    "lost",
)
MESSAGES = int(os.environ.get("HERALD_BENCH_MESSAGES", "1200"))
QUICK_MESSAGES = 24
PAGES = 12
CONCURRENCY = "1"
COUNTS = (1, 2, 3)
ENV = {
    "HERALD_PUBLISHER_FACEBOOK_CONCURRENCY": CONCURRENCY,
    # The insights job reads the ledger every few minutes; it is not what is measured here.
    "HERALD_PUBLISHER_FACEBOOK_INSIGHTS__ENABLED": "false",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=MESSAGES, help="per replica count")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_MESSAGES} messages")
    args = parser.parse_args()
    messages = QUICK_MESSAGES if args.quick else args.messages
    configure_logging(LogSettings(level="WARNING", format="console"), service="bench")
    with stack.shared_infra(StackConfig.from_env()), fleet("bench-rep", pages=PAGES, env=ENV) as f:
        figures = _bench(f, messages)
    print(result_line(RESULT_KEYS, figures))
    return 0 if figures["lost"] == 0 and figures["duplicated"] == 0 else 1


def _bench(f: Fleet, messages: int) -> dict[str, float | int | str]:
    print(
        f"bench_replicas: {messages} Facebook text posts per count, {len(f.pages)} Pages, "
        f"12 partitions, concurrency {CONCURRENCY} per replica, {os.cpu_count()} cores"
    )
    rates: dict[int, float] = {}
    visible_once = duplicated = lost = 0
    for count in COUNTS:
        run = uuid.uuid4().hex[:8]
        f.scale(count)
        settle = asyncio.run(f.members(count))
        # New processes fetch each Page's token and open their connections once: not measured.
        asyncio.run(f.published(asyncio.run(f.request(f"{run}w", len(f.pages))), timeout_s=120))
        cpu = CpuWatch()
        cpu.start()
        began = time.perf_counter()
        targets = asyncio.run(f.request(run, messages))
        published = asyncio.run(f.published(targets, timeout_s=600))
        took = time.perf_counter() - began
        cpu.stop()
        shown = f.visible(run)
        missing = [t for t in targets if not published[t]]
        rates[count] = (messages - len(missing)) / took
        visible_once += sum(1 for t in targets if shown[t] == 1)
        duplicated += sum(1 for t in targets if shown[t] > 1)
        lost += sum(1 for t in targets if shown[t] == 0)
        print(
            f"  {count} replica(s): {rates[count]:6.1f} posts/s ({took:5.1f} s; group settled "
            f"in {settle:4.1f} s; unpublished {len(missing)})"
        )
        cpu.print()
    for count in COUNTS[1:]:
        print(f"  ratio {count} replicas / 1: {rates[count] / rates[1]:.2f}")
    print(f"  on the sandbox: {visible_once} posts once, {duplicated} twice or more, {lost} lost")
    return {
        "messages": messages,
        "pages": len(f.pages),
        "concurrency": int(CONCURRENCY),
        "one_per_s": rates[1],
        "two_per_s": rates[2],
        "three_per_s": rates[3],
        "two_vs_one": rates[2] / rates[1],
        "three_vs_one": rates[3] / rates[1],
        "visible_once": visible_once,
        "duplicated": duplicated,
        "lost": lost,
    }


if __name__ == "__main__":
    raise SystemExit(main())
