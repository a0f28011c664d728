"""What bench_store.py runs, the shared part: timing an operation, the shape of a scenario, and
filling a collection from one document its adapter wrote.

The operations themselves are the services' own adapter methods (`store_scheduler.py`,
`store_services.py`), so the queries measured are the queries the code sends. Each collection is
filled from one document written by its adapter, cloned with varied ids and keys. Half of
everything belongs to one big business and the rest to small businesses of about twenty
documents each: an equality on `business_id` selects half a collection in the first case and a
handful of documents in the second, and both happen.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pymongo.asynchronous.collection import AsyncCollection

from herald.mongo import Document

T = TypeVar("T")
Took = dict[str, float]  # op name → seconds, for one run of a scenario

BATCH = 1_000  # documents per insert_many while filling
BIG = "b_big"
NOW = datetime.now(UTC)


class WrongAnswer(Exception):
    """An operation did not find or do what it should: the figures would mean nothing."""


def check(ok: bool, what: str) -> None:
    if not ok:
        raise WrongAnswer(what)


async def timed(took: Took, name: str, call: Awaitable[T]) -> T:
    OpContext.current = name
    began = time.perf_counter()
    try:
        result = await call
    finally:
        took[name] = time.perf_counter() - began
        OpContext.current = None
    return result


class OpContext:
    """The op being timed, so that the commands it sends can be told apart (bench_store's
    command listener reads it)."""

    current: str | None = None


@dataclass(frozen=True)
class Scenario:
    """Operations run together, in the order a service runs them. `run(k)` (k counts this
    scenario's runs within one size) returns the seconds of each, by name: `service.method`,
    with `[variant]` where one method is measured in two situations."""

    path: str  # the flow the operations belong to: submission, dispatch, result, ...
    hot: bool  # on a per-post or per-message path (not a periodic sweep, listing or history)
    run: Callable[[int], Awaitable[Took]]


@dataclass(frozen=True)
class Spread:
    """Who owns document i: every even one is the big business's, the odd ones are spread over
    small businesses of about twenty documents each."""

    n: int

    def business(self, i: int) -> str:
        return BIG if i % 2 == 0 else f"b_small{(i // 2) % max(1, self.n // 40):05d}"

    def pick(self, rng: random.Random, *, big: bool | None = None) -> int:
        """A filled document's index, never 0 (the adapter's own template, ids of its own)."""
        if big is None:
            return rng.randrange(1, self.n)
        return 2 * rng.randrange(1, self.n // 2) + (0 if big else 1)


async def clone(
    collection: AsyncCollection[Document],
    template_id: object,
    indexes: Iterable[int],
    vary: Callable[[Document, int], Document],
) -> None:
    """Insert, for each i, the adapter-made template updated with `vary(template, i)`."""
    template = await collection.find_one({"_id": template_id})
    check(template is not None, f"{collection.name}: the adapter's document {template_id} is gone")
    assert template is not None
    batch: list[Document] = []
    for i in indexes:
        batch.append({**template, **vary(template, i)})
        if len(batch) == BATCH:
            await collection.insert_many(batch, ordered=False)
            batch = []
    if batch:
        await collection.insert_many(batch, ordered=False)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def integration_id(i: int) -> str:
    return f"int_{i:07d}"


DAY = timedelta(days=1)
