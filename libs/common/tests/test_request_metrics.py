"""What every service's `/metrics` serves besides its own families: HTTP requests counted and
timed by method, route template and status whatever the answer (operational routes are not),
the process and Python collectors, and `herald_build_info`."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from prometheus_client import CollectorRegistry

from herald.service import add_operational_routes

pytestmark = pytest.mark.unit


def _app(registry: CollectorRegistry) -> FastAPI:
    app = FastAPI()
    add_operational_routes(app, service="scheduler", checks={}, registry=registry)

    @app.post("/v1/posts/{post_id}", status_code=201)
    async def made(post_id: str) -> dict[str, str]:
        return {"post_id": post_id}

    @app.get("/v1/posts/{post_id}")
    async def missing(post_id: str) -> dict[str, str]:
        raise HTTPException(status_code=404, detail=f"no {post_id}")

    @app.get("/v1/broken")
    async def broken() -> dict[str, str]:
        msg = "a bug"
        raise RuntimeError(msg)

    return app


async def test_requests_are_counted_by_route_template_and_status() -> None:
    registry = CollectorRegistry()
    transport = httpx.ASGITransport(app=_app(registry), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        assert (await client.post("/v1/posts/a")).status_code == 201
        assert (await client.post("/v1/posts/b")).status_code == 201
        assert (await client.get("/v1/posts/c")).status_code == 404
        assert (await client.get("/v1/broken")).status_code == 500
        assert (await client.get("/nowhere/12")).status_code == 404
        assert (await client.get("/healthz")).status_code == 200

    def count(method: str, route: str, status: str) -> float | None:
        labels = {"method": method, "route": route, "status": status}
        return registry.get_sample_value("herald_http_requests_total", labels)

    assert count("POST", "/v1/posts/{post_id}", "201") == 2
    assert count("GET", "/v1/posts/{post_id}", "404") == 1
    assert count("GET", "/v1/broken", "500") == 1
    assert count("GET", "unmatched", "404") == 1  # never the raw path: no ids as labels
    timed = registry.get_sample_value(
        "herald_http_request_seconds_count",
        {"method": "POST", "route": "/v1/posts/{post_id}"},
    )
    assert timed == 2
    assert count("GET", "/healthz", "200") is None


async def test_metrics_carry_the_process_python_and_build_info() -> None:
    registry = CollectorRegistry()
    transport = httpx.ASGITransport(app=_app(registry))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        text = (await client.get("/metrics")).text

    assert "process_cpu_seconds_total" in text
    assert "process_resident_memory_bytes" in text
    assert "python_gc_collections_total" in text
    assert "python_info{" in text
    build = [line for line in text.splitlines() if line.startswith("herald_build_info{")]
    assert len(build) == 1
    assert 'service="scheduler"' in build[0]
    assert 'version="0.1.0"' in build[0]  # the scheduler distribution's version
    assert build[0].endswith(" 1.0")
