"""A load generator's manners: a 429 or 503 is backpressure, not a crash (issue 25).

The scheduler answers 503 with `Retry-After` when what it depends on is slow or away, and a
rate limit answers 429. A benchmark that stops at the first one measures nothing, and one that
retries at once adds load exactly when the system asked for less. `Backpressure.send` waits as
`Retry-After` says (bounded), sends the same request again (posts carry an Idempotency-Key, so
a retry cannot duplicate one), and counts the refusals for the script's `result:` line.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

REFUSALS = frozenset({429, 503})


def retry_after_s(response: httpx.Response, *, default_s: float, ceiling_s: float) -> float:
    """Seconds `Retry-After` asks for (seconds or an HTTP date), within [0, ceiling]."""
    value = response.headers.get("retry-after", "").strip()
    try:
        wait = float(value)
    except ValueError:
        try:
            wait = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            wait = default_s
    return min(max(wait, 0.0), ceiling_s)


@dataclass
class Backpressure:
    """Counts refusals across every request of a run and waits them out."""

    default_wait_s: float = 1.0  # when a refusal says nothing about when to come back
    max_wait_s: float = 30.0  # one wait is never longer, whatever the header says
    give_up_after: int = 50  # refusals of one request in a row: the system is down, not busy
    refusals: int = 0
    waited_s: float = 0.0

    async def send(self, request: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        """`request()` until it is answered with anything but 429/503."""
        for _ in range(self.give_up_after):
            response = await request()
            if response.status_code not in REFUSALS:
                return response
            self.refusals += 1
            wait = retry_after_s(response, default_s=self.default_wait_s, ceiling_s=self.max_wait_s)
            began = time.monotonic()
            await asyncio.sleep(wait)
            self.waited_s += time.monotonic() - began
        msg = f"refused {self.give_up_after} times in a row (last: {response.status_code})"
        raise RuntimeError(msg)
