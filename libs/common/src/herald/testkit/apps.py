"""A service's app with its dependencies out of reach, and what its operational routes answer
then: every service must be alive (`/healthz`) and serve `/metrics` while `/readyz` says which
dependency does not answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI
from pydantic_settings import BaseSettings

from herald.settings import KafkaSettings, MongoSettings

S = TypeVar("S", bound=BaseSettings)


def unreachable(settings: type[S], **values: Any) -> S:
    """`settings` whose Kafka and MongoDB are out of reach: nothing listens on port 9 (discard)."""
    return settings(
        kafka=KafkaSettings(bootstrap_servers="127.0.0.1:9"),
        mongo=MongoSettings(uri="mongodb://127.0.0.1:9/", server_selection_timeout_ms=200),
        **values,
    )


@dataclass(frozen=True)
class Probe:
    """The status of each operational route, `/readyz`'s checks and the metrics' text."""

    health: int
    ready: int
    checks: dict[str, str]
    metrics: int
    metrics_text: str


async def probe(app: FastAPI) -> Probe:
    """Ask `app` (built, not started) its operational routes in-process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")
    checks: dict[str, str] = ready.json()["checks"]
    return Probe(health.status_code, ready.status_code, checks, metrics.status_code, metrics.text)
