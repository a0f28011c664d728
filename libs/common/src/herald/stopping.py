"""Stopping background tasks for sure: `await cancel_and_wait(*tasks)`.

`task.cancel()` followed by `await gather(task)` assumes the cancellation is delivered. On Python
3.11 it can be lost: `asyncio.wait_for` returns its inner result when the task awaiting it is
cancelled in the same turn of the loop that the inner call finishes (CPython gh-86296, fixed in
3.12), and PyMongo's pool and network layer, like some of our own loops, call `wait_for`. The
loop then carries on as if nothing had happened, into its next sleep, and `gather` waits for that
sleep. Under load this held a scheduler's shutdown for the retention sweep's hour (the 300 s hang
of `test_schema_errors_name_field_paths`: the app stops while its first sweep is in flight). So
the task is cancelled again until it ends.
"""

from __future__ import annotations

import asyncio
from typing import Any

# A task still running this long after a cancellation is cancelled again: long enough for the
# cleanup a cancelled task does on its way out (releasing a lock, letting a claim go) to finish
# under load, short against the hour a swallowed cancellation could cost.
AGAIN_AFTER_S = 5.0


async def cancel_and_wait(
    *tasks: asyncio.Task[Any] | None, again_after_s: float = AGAIN_AFTER_S
) -> None:
    """Cancel `tasks` (None ignored) and return once every one has ended, whatever it raised."""
    every = [t for t in tasks if t is not None]
    pending = {t for t in every if not t.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=again_after_s)
    for task in every:  # what each raised is its own business: read, so none is reported unread
        if not task.cancelled():
            task.exception()
