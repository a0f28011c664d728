"""Writes that must not be lost to a store away for seconds (a restart), where giving up would
make the caller repeat a side effect (a WhatsApp message sent twice). No driver here: flows that
must not import one use it too."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


async def durably(write: Callable[[], Awaitable[object]], *, within_s: float, what: str) -> None:
    """`write`, tried again with growing pauses (0.1 s to 2 s) for up to `within_s` while it
    fails; its last error is raised after that."""
    deadline = time.monotonic() + within_s
    pause = 0.1
    while True:
        try:
            await write()
        except Exception as exc:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("store.write_retried", what=what, error=repr(exc), in_s=pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)
        else:
            return
