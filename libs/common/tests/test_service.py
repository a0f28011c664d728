from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter

from herald.service import add_operational_routes

pytestmark = pytest.mark.unit


async def _ok() -> None:
    return None


async def _refused() -> None:
    raise ConnectionRefusedError("connection refused")


async def _hangs() -> None:
    await asyncio.sleep(60)


def _app(**checks: object) -> FastAPI:
    app = FastAPI()
    registry = CollectorRegistry()
    Counter("herald_example_total", "an example counter", registry=registry).inc()
    add_operational_routes(app, service="svc", checks=checks, registry=registry)  # type: ignore[arg-type]  # test passes plain callables
    return app


async def _get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        return await client.get(path)


async def test_ready_when_every_check_answers() -> None:
    response = await _get(_app(kafka=_ok, mongo=_ok), "/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "service": "svc",
        "checks": {"kafka": "ok", "mongo": "ok"},
    }


async def test_not_ready_names_each_failing_dependency() -> None:
    response = await _get(_app(kafka=_refused, mongo=_ok), "/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "kafka": "ConnectionRefusedError: connection refused",
        "mongo": "ok",
    }


async def test_a_hanging_check_times_out_instead_of_hanging_the_probe() -> None:
    response = await _get(_app(mongo=_hangs), "/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["mongo"].startswith("no answer within")


async def test_health_and_metrics() -> None:
    app = _app()
    assert (await _get(app, "/healthz")).json() == {"status": "alive", "service": "svc"}
    metrics = await _get(app, "/metrics")
    assert metrics.status_code == 200
    assert "herald_example_total 1.0" in metrics.text
