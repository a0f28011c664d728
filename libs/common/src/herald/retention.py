"""Retention: bookkeeping a service no longer needs is deleted once it is old enough.

A publisher's ledger entries, leases and (WhatsApp) message log only grow otherwise, and on
FerretDB 1.x every write that is not an insert, and every read by anything but `_id`, costs a
scan that grows with its collection (ADR 0006): unbounded growth slows the service down for
good. A `Rule` names a collection, the time field that ages its documents, and an extra filter
(finished ledger entries only, for instance); `Retention` deletes what is older than `keep_s`
every `every_s`, counts it (`herald_retention_deleted_total{collection}`) and logs it. A failed
sweep is logged and the next one runs.

What may be deleted is what can no longer be asked for: a ledger entry is the memory that a
target was published, so it must outlive every way its request can still arrive (the request
topics' retention, seven days on a default broker, plus the longest deferral, 48 h); the
settings refuse a retention shorter than what the service itself still reads (ADR 0004).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel, Field
from pymongo.asynchronous.database import AsyncDatabase

from herald.mongo import Document

log = structlog.get_logger(__name__)

DAY_S = 86_400.0


class RetentionSettings(BaseModel):
    model_config = {"extra": "forbid"}

    enabled: bool = True
    keep_days: float = Field(
        default=30.0,
        gt=0,
        description="Age after which finished bookkeeping (ledger, leases, logs) is deleted.",
    )
    every_s: float = Field(default=3_600.0, gt=0, description="How often the sweep runs.")

    @property
    def keep_s(self) -> float:
        return self.keep_days * DAY_S


@dataclass(frozen=True)
class Rule:
    collection: str
    aged_by: str  # a datetime field: documents older than the retention by it are deleted
    where: Mapping[str, Any] = field(default_factory=dict)
    keep_s: float | None = None  # this collection's own retention, instead of the sweep's


@dataclass
class Retention:
    db: AsyncDatabase[Document]
    rules: Sequence[Rule]
    keep_s: float
    every_s: float
    registry: CollectorRegistry | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self._deleted = Counter(
            "herald_retention_deleted_total",
            "Documents deleted because they outlived the retention, by collection.",
            ["collection"],
            registry=self.registry,
        )

    async def sweep_once(self) -> dict[str, int]:
        """Delete, per rule, what is older than the retention; counts by collection."""
        now = self.clock()
        deleted: dict[str, int] = {}
        for rule in self.rules:
            keep_s = self.keep_s if rule.keep_s is None else rule.keep_s
            cutoff = now - timedelta(seconds=keep_s)
            query = {**rule.where, rule.aged_by: {"$lt": cutoff}}
            result = await self.db[rule.collection].delete_many(query)
            deleted[rule.collection] = deleted.get(rule.collection, 0) + result.deleted_count
            self._deleted.labels(rule.collection).inc(result.deleted_count)
        return deleted

    async def run_forever(self) -> None:
        """Sweep, wait `every_s`, again; a failed sweep is logged and the next one runs."""
        while True:
            try:
                deleted = await self.sweep_once()
                if any(deleted.values()):
                    log.info("retention.swept", deleted=deleted)
            except Exception:  # a database blip must not end the job
                log.exception("retention.sweep_failed")
            await asyncio.sleep(self.every_s)
