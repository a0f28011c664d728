"""The sandbox depends on nothing, so it is ready as soon as it serves."""

from __future__ import annotations

import httpx
import pytest

from platform_sandbox.app import create_app
from platform_sandbox.settings import Settings

pytestmark = pytest.mark.unit


async def test_ready_without_dependencies() -> None:
    transport = httpx.ASGITransport(app=create_app(Settings()))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {}
