"""How a JSON contact import's cost grows with its rows, and what it does to the event loop.

Issue 19 measured 4.9 s for a 20,000-row import and `/healthz` held for 0.6 s by a 6,000-row
one: each row's line was counted from the start of the text (quadratic), on the event loop. This
reads imports of N rows (`scheduler.imports.parse` and `check_rows`, what the route runs) and
prints, per N: the seconds, the growth over the previous N (linear: about the ratio of the Ns),
and the seconds the pre-fix line counting alone would add. Then it reads the largest import
twice while a loop measures how late a 1 ms timer fires: in a thread, as the route does now,
and on the loop itself, as it did. One line ends it:

    result: rows=<largest> seconds=<s> growth_per_doubling=<x> old_line_counting_s=<s> \
        loop_lag_ms_thread=<ms> loop_lag_ms_inline=<ms>

Nothing is asserted; figures depend on the machine and its load.

    .venv/bin/python tests/benchmarks/bench_imports.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from collections.abc import Callable
from functools import partial

from resultline import result_line

from scheduler.imports import check_rows, parse

RESULT_KEYS: tuple[str, ...] = (
    "rows",
    "seconds",
    "growth_per_doubling",
    "old_line_counting_s",
    "loop_lag_ms_thread",
    "loop_lag_ms_inline",
)


def import_text(rows: int) -> bytes:
    lines = (
        json.dumps({"phone": f"+3519{n:08d}", "opted_in": True, "name": f"Person {n}"})
        for n in range(rows)
    )
    return ("[\n" + ",\n".join(lines) + "\n]").encode()


def read(data: bytes) -> int:
    plan = check_rows(parse(data, "application/json", max_rows=10**6), [])
    return len(plan.accepted)


def old_line_counting(data: bytes) -> float:
    """What the pre-fix reader spent counting lines alone: from the start, for every row."""
    text = data.decode()
    starts = [i for i, c in enumerate(text) if c == "{"]
    began = time.perf_counter()
    for position in starts:
        text.count("\n", 0, position)
    return time.perf_counter() - began


def timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


async def loop_lag(work: Callable[[], object], *, in_thread: bool) -> float:
    """The latest a 1 ms timer fired (ms) while `work` ran, in a thread or on the loop."""
    done = asyncio.Event()
    worst = 0.0

    async def watch() -> None:
        nonlocal worst
        while not done.is_set():
            began = time.perf_counter()
            await asyncio.sleep(0.001)
            worst = max(worst, (time.perf_counter() - began) * 1000 - 1)

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0.01)
    if in_thread:
        await asyncio.to_thread(work)
    else:
        work()
    done.set()
    await watcher
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small imports, for make test")
    args = parser.parse_args()
    sizes = [2_500, 5_000] if args.quick else [5_000, 10_000, 20_000, 40_000]
    seconds: dict[int, float] = {}
    print(f"{'rows':>8} {'seconds':>9} {'growth':>7} {'old line counting s':>20}")
    previous: float | None = None
    old = 0.0
    for rows in sizes:
        data = import_text(rows)
        seconds[rows] = min(timed(partial(read, data)) for _ in range(3))
        old = old_line_counting(data)
        growth = "" if previous is None else f"{seconds[rows] / previous:.2f}"
        print(f"{rows:>8} {seconds[rows]:>9.3f} {growth:>7} {old:>20.3f}")
        previous = seconds[rows]
    growths = [seconds[b] / seconds[a] for a, b in itertools.pairwise(sizes)]
    largest = import_text(sizes[-1])
    in_thread = asyncio.run(loop_lag(lambda: read(largest), in_thread=True))
    inline = asyncio.run(loop_lag(lambda: read(largest), in_thread=False))
    print(f"loop lag reading {sizes[-1]} rows: thread {in_thread:.1f} ms, inline {inline:.1f} ms")
    figures = {
        "rows": sizes[-1],
        "seconds": round(seconds[sizes[-1]], 3),
        "growth_per_doubling": round(max(growths), 2),
        "old_line_counting_s": round(old, 3),
        "loop_lag_ms_thread": round(in_thread, 1),
        "loop_lag_ms_inline": round(inline, 1),
    }
    print(result_line(RESULT_KEYS, figures))


if __name__ == "__main__":
    main()
