"""The Graph hosts are answered before FastAPI's machinery; a sandbox bug answers like Graph's
unknown error (code 1) instead of a bare 500, and other paths still reach FastAPI."""

from __future__ import annotations

import asyncio

import pytest

from platform_sandbox.accounts import NodeKind
from platform_sandbox.app import create_app
from platform_sandbox.graph_router import GraphCall, Route
from platform_sandbox.hosts import SandboxApp
from platform_sandbox.settings import Settings
from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit


async def explode(call: GraphCall) -> dict[str, object]:
    msg = f"a bug behind {call.req.path}"
    raise RuntimeError(msg)


async def test_an_unexpected_error_is_graph_code_1(harness: SandboxHarness) -> None:
    app = harness.app
    assert isinstance(app, SandboxApp)
    assert app.graph_hosts is not None
    app.graph_hosts.graph.node(
        NodeKind.PAGE, "explode", "GET", Route(explode, "facebook", "explode")
    )
    token = (await harness.token("page", harness.demo.page_id))["access_token"]
    response = await harness.client.get(
        f"/graph.facebook.com/v23.0/{harness.demo.page_id}/explode", params={"access_token": token}
    )
    assert response.status_code == 500
    assert response.json()["error"]["code"] == 1


async def test_other_paths_reach_fastapi(harness: SandboxHarness) -> None:
    assert (await harness.client.get("/healthz")).json()["status"] == "alive"
    assert (await harness.client.get("/graph.facebook.com.evil/v23.0/me")).status_code == 404
    assert (await harness.client.put("/graph.facebook.com/v23.0/me")).status_code in (404, 405)


async def test_lifespan_opens_and_closes_the_outbound_client() -> None:
    app = create_app(Settings.model_validate({"webhooks": {"poll_interval_s": 0.01}}))
    sandbox = app.state.sandbox
    with pytest.raises(RuntimeError):
        sandbox.client()
    async with app.router.lifespan_context(app):
        assert sandbox.client() is not None
        await asyncio.sleep(0.05)
    with pytest.raises(RuntimeError):
        sandbox.client()


async def test_background_delivery_of_due_webhooks(harness: SandboxHarness) -> None:
    inbox = harness.inbox("http://127.0.0.1:8160/hook")
    await harness.client.put(
        "/_sandbox/webhooks/whatsapp", json={"url": "http://127.0.0.1:8160/hook"}
    )
    runner = asyncio.create_task(harness.sandbox.webhooks.run())
    try:
        await harness.client.post(
            "/_sandbox/whatsapp/inbound",
            json={"phone_number_id": harness.demo.phone_number_id, "from": "1555"},
        )
        for _ in range(100):
            if inbox.requests:
                break
            await asyncio.sleep(0.01)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    assert len(inbox.requests) == 1
