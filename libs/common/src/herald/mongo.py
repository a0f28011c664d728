"""The MongoDB client factory: PyMongo's native async API (Motor is deprecated; not used).

The client is created in a service's lifespan and closed there; constructing it does no I/O.
Code that uses it follows docs/architecture.md §7 so it is correct on MongoDB and on FerretDB:
unique-index inserts for exclusivity, no transactions, no TTL indexes, simple aggregations.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from herald.settings import MongoSettings

log = structlog.get_logger(__name__)

Document = dict[str, Any]


def new_mongo_client(settings: MongoSettings, *, app_name: str) -> AsyncMongoClient[Document]:
    """An `AsyncMongoClient` with tz-aware datetimes and standard UUIDs."""
    return AsyncMongoClient(
        settings.uri,
        appname=app_name,
        tz_aware=True,
        uuidRepresentation="standard",
        serverSelectionTimeoutMS=settings.server_selection_timeout_ms,
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
