"""Short garbage-collector pauses for a process that measures.

The sandbox stamps every message it accepts, and benchmarks count those stamps per second
against a platform's limit. Its state only grows while it runs (messages, ledger, statuses), and
Python's full collection walks every tracked object: with tens of thousands of messages held,
a pause of around 100 ms, during which requests queue and are then handled, and stamped, in a
burst (bench_whatsapp counted 84-86 in a sliding second at a steady 77/s; with the collector
off, 79). So every `every_s` the young objects are collected and the survivors frozen
(`gc.freeze`): later collections, full ones included, no longer walk what the sandbox keeps.
The cost: a reference cycle that becomes garbage after it was frozen is never freed, which a
stand-in that keeps its whole history anyway can afford.
"""

from __future__ import annotations

import asyncio
import gc


async def keep_collections_short(every_s: float) -> None:
    """Collect the young generations and freeze the survivors every `every_s`, until cancelled."""
    while True:
        await asyncio.sleep(every_s)
        gc.collect(1)
        gc.freeze()
