"""The sign-in limit's client address behind the console (ADR 0024): auth-service runs under
uvicorn as every service does (`herald.service.uvicorn_config`), which takes the address from
`X-Forwarded-For` only when the request comes from an address in `FORWARDED_ALLOW_IPS`. The
console's header is believed, so each browser has its own count; the same header from
anywhere else is ignored, so a guesser cannot escape the limit by inventing addresses."""

from __future__ import annotations

import httpx
import pytest

from auth_service.testing import ADMIN_TOKEN, World, WorldFactory
from herald.service import uvicorn_config
from herald.settings import HttpServerSettings

pytestmark = pytest.mark.connected

PASSWORD = "a long enough password"
EMAIL = "owner@bakery.example"
CONSOLE = "10.20.0.30"  # the console's pod or container
ELSEWHERE = "10.20.0.99"  # another client on the same network


def browser_of(world: World, address: str, monkeypatch: pytest.MonkeyPatch) -> httpx.AsyncClient:
    """A client at `address`, talking to auth-service as uvicorn serves it, with the console's
    address as the deployment's FORWARDED_ALLOW_IPS (compose and the chart set it)."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", CONSOLE)
    config = uvicorn_config(world.app, HttpServerSettings(port=8101))
    config.load()
    transport = httpx.ASGITransport(app=config.loaded_app, client=(address, 40123))
    return httpx.AsyncClient(transport=transport, base_url=str(world.client.base_url))


async def attempt(client: httpx.AsyncClient, password: str, forwarded_for: str) -> int:
    body = {"email": EMAIL, "password": password}
    answer = await client.post(
        "/v1/sessions", json=body, headers={"X-Forwarded-For": forwarded_for}
    )
    return answer.status_code


async def test_the_consoles_forwarded_address_counts_and_a_forged_one_does_not(
    make_world: WorldFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = await make_world(people={"max_failures_per_email": 50, "max_failures_per_address": 2})
    made = await world.client.post(
        f"/v1/admin/businesses/{world.business_id}/users",
        json={"email": EMAIL, "name": "Olga Owner", "password": PASSWORD},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert made.status_code == 201, made.text
    console = browser_of(world, CONSOLE, monkeypatch)
    elsewhere = browser_of(world, ELSEWHERE, monkeypatch)

    # Through the console: one browser's failures hold that browser only.
    assert [await attempt(console, "wrong password!", "203.0.113.1") for _ in range(2)] == [401] * 2
    assert await attempt(console, PASSWORD, "203.0.113.1") == 429
    assert await attempt(console, PASSWORD, "203.0.113.2") == 201  # another browser is free

    # From elsewhere the header is ignored: a new invented address per try does not help, the
    # failures count against the sender's own address.
    forged = [await attempt(elsewhere, "wrong password!", f"198.51.100.{i}") for i in range(2)]
    assert forged == [401, 401]
    assert await attempt(elsewhere, PASSWORD, "198.51.100.9") == 429
    assert await attempt(console, PASSWORD, "198.51.100.9") == 201  # that browser was never held
    await console.aclose()
    await elsewhere.aclose()
