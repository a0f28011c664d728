"""How each service's hottest database operations grow with the data they sit on.

The operations are the services' own adapter methods (`store_scheduler.py`,
`store_services.py`: submission, replay, dispatch, reading a post, recording a result, the
publishers' ledger, auth-service's token and API key reads, WhatsApp's message log, TikTok's
webhooks, and a few sweeps and listings for contrast), run against the local store (FerretDB on
PostgreSQL, ADR 0010) with every growing collection filled to N documents, for each N, in fresh
databases dropped afterwards. The scheduler's `pending` queue is bounded by design (rows are
deleted as they are dispatched): it stays at --bounded rows at every N while the rest grows.

Scenarios are interleaved, shuffled every round, so that other load on the machine falls on all
alike; each stops after --reps runs, or once it has spent --budget seconds (and made --min-reps
runs). It prints the median and p95 of each operation per N, the growth (median at the largest
N over the smallest) and the commands each operation sent, then one line:

    result: worst_growth=<x> op=<name> worst_hot_growth=<x> hot_op=<name> hot_over_2x=<count> ...

Nothing is asserted about speed; an operation that does not find what it should stops the run.

    .venv/bin/python tests/benchmarks/bench_store.py [--quick] [--sizes 1000,10000,50000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)
from resultline import result_line
from store_scheduler import SchedulerLoad
from store_services import AuthLoad, PublisherLoad
from store_workload import OpContext, Scenario

from herald.mongo import Document
from herald_localstack import stack
from herald_localstack.config import StackConfig

RESULT_KEYS: tuple[str, ...] = (
    "worst_growth",
    "op",
    "worst_hot_growth",
    "hot_op",
    "hot_over_2x",
    "ops",
    "sizes",
)
WARMUP = 2  # unrecorded runs of each scenario per size
HOT_LIMIT = 2.0  # issue 14: no hot operation grows more than this from the smallest N

Samples = dict[str, list[float]]  # op name → seconds


def say(line: str = "") -> None:
    print(line, flush=True)


class Shapes(CommandListener):
    """The commands each operation sent, as the driver saw them: the table shows what the code
    asks of the store beside what it cost, so a changed query cannot hide."""

    def __init__(self) -> None:
        self.seen: dict[str, list[str]] = {}
        self.on = False

    def started(self, event: CommandStartedEvent) -> None:
        op = OpContext.current
        shape = describe(event.command_name, event.command)
        if self.on and op is not None and shape is not None:
            shapes = self.seen.setdefault(op, [])
            if shape not in shapes:
                shapes.append(shape)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        return None

    def failed(self, event: CommandFailedEvent) -> None:
        return None


def describe(name: str, command: Mapping[str, Any]) -> str | None:
    """`find{business_id,idempotency_key}`, `delete{_id:$in}`, `find{due_at:$lte} sort`, ..."""
    if name == "insert":
        return "insert"
    if name in ("find", "count"):
        query = command.get("filter") or command.get("query") or {}
        return f"{name}{_fields(query)}" + (" sort" if command.get("sort") else "")
    if name in ("update", "delete"):
        query = command[f"{name}s"][0]["q"]
        return f"{name}{_fields(query)}"
    if name == "aggregate":
        stages = [next(iter(stage)) for stage in command.get("pipeline", [])]
        shown = [
            f"{s}{_fields(stage[s])}" if s == "$match" else s
            for s, stage in zip(stages, command.get("pipeline", []), strict=True)
        ]
        return "aggregate[" + ",".join(shown) + "]"
    return None  # getMore, killCursors, endSessions: part of what came before


def _fields(query: Mapping[str, Any]) -> str:
    parts = []
    for field, value in query.items():
        operators = [k for k in value if k.startswith("$")] if isinstance(value, Mapping) else []
        parts.append(f"{field}:{','.join(operators)}" if operators else field)
    return "{" + ",".join(parts) + "}"


@dataclass(frozen=True)
class Op:
    name: str  # service.method[variant], as the scenario timed it
    path: str
    hot: bool


@dataclass
class Progress:
    scenario: Scenario
    runs: int = 0  # every run, the warm-up included: a scenario's k
    measured: int = 0
    spent: float = 0.0

    def wants_more(self, reps: int, min_reps: int, budget: float) -> bool:
        return self.measured < reps and (self.spent < budget or self.measured < min_reps)


async def measure(
    scenarios: Sequence[Scenario], args: argparse.Namespace
) -> tuple[list[Op], Samples]:
    """The operations the scenarios timed (named by their warm-up runs), and their seconds."""
    ops: dict[str, Op] = {}
    progress = [Progress(s) for s in scenarios]
    for p in progress:  # in order: the first submissions leave posts for the reads
        for _ in range(WARMUP):
            for name in await p.scenario.run(p.runs):
                ops.setdefault(name, Op(name, p.scenario.path, p.scenario.hot))
            p.runs += 1
    samples: Samples = {name: [] for name in ops}
    rng = random.Random(args.seed)
    while active := [p for p in progress if p.wants_more(args.reps, args.min_reps, args.budget)]:
        rng.shuffle(active)
        for p in active:
            took = await p.scenario.run(p.runs)
            p.runs += 1
            p.measured += 1
            p.spent += sum(took.values())
            for name, seconds in took.items():
                samples[name].append(seconds)
    return list(ops.values()), samples


async def one_size(
    client: AsyncMongoClient[Document], n: int, args: argparse.Namespace, shapes: Shapes
) -> tuple[list[Op], Samples]:
    prefix = f"benchstore{uuid.uuid4().hex[:6]}_{n}"
    dbs = [client[f"{prefix}_{name}"] for name in ("scheduler", "auth", "publisher")]
    try:
        loads = (
            SchedulerLoad(dbs[0], n, min(args.bounded, n), args.seed),
            AuthLoad(dbs[1], n, args.seed),
            PublisherLoad(dbs[2], n, args.seed),
        )
        began = time.perf_counter()
        jobs = [job for load in loads for job in await load.fill()]
        await asyncio.gather(*jobs)
        say(f"[N={n:,}] {len(jobs)} collections filled in {time.perf_counter() - began:.1f} s")
        scenarios = [s for load in loads for s in load.scenarios()]
        began = time.perf_counter()
        shapes.on = True
        ops, samples = await measure(scenarios, args)
        runs = min(len(v) for v in samples.values())
        say(f"[N={n:,}] measured in {time.perf_counter() - began:.1f} s (at least {runs} runs)")
        return ops, samples
    finally:
        shapes.on = False
        for db in dbs:
            await client.drop_database(db.name)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def growth(results: Mapping[int, Samples], name: str) -> float:
    sizes = sorted(results)
    return statistics.median(results[sizes[-1]][name]) / statistics.median(results[sizes[0]][name])


def report(ops: Sequence[Op], results: Mapping[int, Samples], shapes: Shapes) -> list[Op]:
    """Print the table; the hot operations that grew past HOT_LIMIT."""
    sizes = sorted(results)
    say(
        f"\nmedian ms (p95 ms) at N documents per collection; "
        f"growth = median at N={sizes[-1]:,} / at N={sizes[0]:,}"
    )
    head = f"{'op':31s} {'path':21s} {'hot':3s} "
    say(head + " ".join(f"{n:>17,}" for n in sizes) + f" {'growth':>7s}  commands sent")
    over = []
    for op in ops:
        cells = []
        for n in sizes:
            xs = results[n][op.name]
            cells.append(f"{statistics.median(xs) * 1e3:8.2f} ({percentile(xs, 95) * 1e3:6.1f})")
        ratio = growth(results, op.name)
        if op.hot and ratio > HOT_LIMIT:
            over.append(op)
        flag = "yes" if op.hot else "-"
        sent = " + ".join(shapes.seen.get(op.name, []))
        say(f"{op.name:31s} {op.path:21s} {flag:3s} " + " ".join(cells) + f" {ratio:6.2f}x  {sent}")
    return over


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="N of 200 and 1,000, few runs")
    parser.add_argument("--sizes", help="documents per collection, e.g. 1000,10000,50000")
    parser.add_argument("--reps", type=int, help="runs of each scenario per size (200)")
    parser.add_argument("--min-reps", type=int, help="runs made whatever the budget (10)")
    parser.add_argument("--budget", type=float, help="seconds per scenario and size (10)")
    parser.add_argument("--bounded", type=int, help="rows of the pending queue (1,000)")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    quick = {"sizes": "200,1000", "reps": 8, "min_reps": 3, "budget": 0.15, "bounded": 200}
    full = {"sizes": "1000,10000,50000", "reps": 200, "min_reps": 10, "budget": 10.0}
    for name, value in (quick if args.quick else full | {"bounded": 1000}).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.sizes = sorted(int(s) for s in str(args.sizes).split(","))
    if len(args.sizes) < 2 or args.sizes[0] < 100:
        parser.error("--sizes needs at least two sizes of 100 or more")
    return args


async def run(uri: str, args: argparse.Namespace, began: float) -> None:
    shapes = Shapes()
    client: AsyncMongoClient[Document] = AsyncMongoClient(uri, event_listeners=[shapes])
    info = await client.server_info()
    say(f"store: {uri} (FerretDB {info.get('ferretdbVersion', '?')}); sizes {args.sizes}")
    say(
        f"every growing collection holds N documents; the scheduler's pending queue holds "
        f"{args.bounded:,} (bounded: rows are deleted as dispatched); runs per op: up to "
        f"{args.reps}, or {args.budget:g} s (at least {args.min_reps})"
    )
    results: dict[int, Samples] = {}
    ops: list[Op] = []
    try:
        for n in args.sizes:
            ops, results[n] = await one_size(client, n, args, shapes)
    finally:
        await client.close()
    over = report(ops, results, shapes)
    say(
        "\nFerretDB 1.24 pushes down only equalities on fields (served by GIN indexes, ADR 0010):"
        " $in, ranges, $or and sorts are applied, in FerretDB, to every row the equalities "
        "select (all rows when there are none)."
    )
    hot = [op for op in ops if op.hot]
    worst = max(ops, key=lambda op: growth(results, op.name))
    worst_hot = max(hot, key=lambda op: growth(results, op.name))
    listed = ", ".join(f"{op.name} ({growth(results, op.name):.2f}x)" for op in over) or "none"
    say(f"hot operations growing more than {HOT_LIMIT:g}x: {listed}")
    say(f"the run took {time.perf_counter() - began:.0f} s")
    figures = {
        "worst_growth": growth(results, worst.name),
        "op": worst.name,
        "worst_hot_growth": growth(results, worst_hot.name),
        "hot_op": worst_hot.name,
        "hot_over_2x": len(over),
        "ops": len(ops),
        "sizes": args.sizes,
    }
    say(result_line(RESULT_KEYS, figures))


def main() -> None:
    args = parse()
    began = time.perf_counter()
    cfg = StackConfig.from_env()
    with stack.shared_infra(cfg):  # a running stack is reused
        asyncio.run(run(cfg.mongo_uri, args, began))


if __name__ == "__main__":
    main()
