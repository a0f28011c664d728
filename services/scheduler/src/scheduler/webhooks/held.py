"""A business's webhook endpoints held for a moment: every notice of a business asks for them,
and reading them for each (three notices a post) was the scheduler's busiest database read
(`bench_e2e`, ADR 0021). What this replica changes is forgotten at once; what another replica
changes shows within `endpoints_cache_s`."""

from __future__ import annotations

import time

from scheduler.webhooks.models import Endpoint

HELD_BUSINESSES = 10_000  # businesses whose endpoints are held at most


class HeldEndpoints:
    def __init__(self, hold_s: float) -> None:
        self._hold_s = hold_s
        self._held: dict[str, tuple[float, list[Endpoint]]] = {}

    def get(self, business_id: str) -> list[Endpoint] | None:
        held = self._held.get(business_id)
        if held is None or time.monotonic() - held[0] >= self._hold_s:
            return None
        return held[1]

    def put(self, business_id: str, endpoints: list[Endpoint]) -> None:
        if self._hold_s <= 0:
            return
        if len(self._held) >= HELD_BUSINESSES:
            self._held.clear()  # the businesses that tell anything lately come back
        self._held[business_id] = (time.monotonic(), endpoints)

    def forget(self, business_id: str | None = None) -> None:
        """One business's endpoints, or every business's (None)."""
        if business_id is None:
            self._held.clear()
        else:
            self._held.pop(business_id, None)
