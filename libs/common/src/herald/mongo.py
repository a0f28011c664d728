"""The MongoDB client factory: PyMongo's native async API (Motor is deprecated; not used).

The client is created in a service's lifespan and closed there; constructing it does no I/O.
Code that uses it follows docs/architecture.md, "Store rules", so it is correct on MongoDB and
on FerretDB:
unique-index inserts for exclusivity, no transactions, no TTL indexes, simple aggregations.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError
from pymongo.monitoring import (
    CommandFailedEvent,
    CommandListener,
    CommandStartedEvent,
    CommandSucceededEvent,
)

from herald.settings import MongoSettings

log = structlog.get_logger(__name__)

Document = dict[str, Any]


# Commands whose first field names a collection; others (ping, hello, ...) are labelled "-".
_COLLECTION_COMMANDS = frozenset(
    {
        "find",
        "insert",
        "update",
        "delete",
        "aggregate",
        "count",
        "distinct",
        "findAndModify",
        "createIndexes",
        "listIndexes",
        "drop",
    }
)
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class MongoCommandMetrics(CommandListener):
    """Duration of every database command by database, collection and command name.

    Where a service's time goes on the database is the first question when it slows down
    (FerretDB's costs grow with a collection, ADR 0006); this answers it from `/metrics`.
    `getMore` is counted under the collection its cursor reads.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.seconds = Histogram(
            "herald_mongo_command_seconds",
            "Duration of database commands by database, collection and command.",
            ["database", "collection", "command"],
            buckets=_BUCKETS,
            registry=registry,
        )
        self.failures = Counter(
            "herald_mongo_command_failures_total",
            "Database commands that failed, by database, collection and command.",
            ["database", "collection", "command"],
            registry=registry,
        )
        self._collections: dict[tuple[object, int], str] = {}

    def started(self, event: CommandStartedEvent) -> None:
        name = event.command_name
        collection = "-"
        if name in _COLLECTION_COMMANDS:
            collection = str(event.command.get(name, "-"))
        elif name == "getMore":
            collection = str(event.command.get("collection", "-"))
        if len(self._collections) > 10_000:  # answers that never came (closed sockets)
            self._collections.clear()
        self._collections[(event.connection_id, event.request_id)] = collection

    def _labels(self, event: CommandSucceededEvent | CommandFailedEvent) -> tuple[str, str, str]:
        collection = self._collections.pop((event.connection_id, event.request_id), "-")
        return event.database_name, collection, event.command_name

    def succeeded(self, event: CommandSucceededEvent) -> None:
        self.seconds.labels(*self._labels(event)).observe(event.duration_micros / 1e6)

    def failed(self, event: CommandFailedEvent) -> None:
        labels = self._labels(event)
        self.seconds.labels(*labels).observe(event.duration_micros / 1e6)
        self.failures.labels(*labels).inc()


def new_mongo_client(
    settings: MongoSettings, *, app_name: str, registry: CollectorRegistry | None = None
) -> AsyncMongoClient[Document]:
    """An `AsyncMongoClient` with tz-aware datetimes and standard UUIDs.

    With a `registry`, every command's duration is exported (`herald_mongo_command_seconds`).
    """
    listeners = [MongoCommandMetrics(registry)] if registry is not None else []
    return AsyncMongoClient(
        settings.uri,
        appname=app_name,
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=settings.server_selection_timeout_ms,
        event_listeners=listeners,
    )


async def check_mongo(client: AsyncMongoClient[Document]) -> None:
    """Readiness: raise unless the server answers `ping`."""
    await client.admin.command("ping")


async def wait_for_mongo(client: AsyncMongoClient[Document], settings: MongoSettings) -> None:
    """Ping until MongoDB answers or `startup_timeout_s` has passed."""
    deadline = time.monotonic() + settings.startup_timeout_s
    while True:
        try:
            await check_mongo(client)
        except PyMongoError as exc:
            if time.monotonic() >= deadline:
                msg = (
                    f"MongoDB did not answer within {settings.startup_timeout_s:.0f}s ({exc}); "
                    "check HERALD_MONGO_URI"
                )
                raise ConnectionError(msg) from exc
            log.warning("mongo.unavailable", error=str(exc))
            await asyncio.sleep(1.0)
        else:
            return
