"""The service answers its operational routes even before its dependencies do."""

from __future__ import annotations

import httpx
import pytest
from pymongo import AsyncMongoClient

from auth_service.app import create_app
from auth_service.settings import Settings
from herald.mongo import Document
from herald.settings import KafkaSettings, MongoSettings

pytestmark = pytest.mark.unit


def _settings() -> Settings:
    # Nothing listens on port 9 (discard), so both dependencies are unreachable.
    return Settings(
        kafka=KafkaSettings(bootstrap_servers="127.0.0.1:9"),
        mongo=MongoSettings(uri="mongodb://127.0.0.1:9/", server_selection_timeout_ms=200),
    )


async def test_alive_but_not_ready_without_kafka_and_mongo(
    unreachable_mongo: AsyncMongoClient[Document],
) -> None:
    app = create_app(_settings(), mongo=unreachable_mongo)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
        metrics = await client.get("/metrics")

    assert health.status_code == 200
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert set(checks) == {"kafka", "mongo"}
    assert checks["kafka"] != "ok"
    assert checks["mongo"] != "ok"
    assert metrics.status_code == 200
