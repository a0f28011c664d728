"""50 concurrent refresh requests for one TikTok integration whose refresh token rotates, spread
over two replicas: exactly one refresh call reaches the sandbox, every caller gets a working
token, and the integration stays active."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from auth_service.testing import Sandbox, WorldFactory, emitted, recorder
from herald.events import IntegrationRefreshed

pytestmark = pytest.mark.connected

PUBLISHER = {"Authorization": "Bearer pubtt-" + "e5f6a7b8" * 5}


async def test_fifty_concurrent_refreshes_make_one_call(
    make_world: WorldFactory, sandbox: Sandbox
) -> None:
    creator = await sandbox.admin("POST", "/tiktok/users", json={"username": "busy.creator"})
    first = await make_world()
    second = await make_world()  # another replica on the same database
    integration = (await first.connect("tiktok", sandbox_user=creator["open_id"]))[0]
    path = f"/internal/v1/integrations/{integration['integration_id']}/refresh"
    params = {"business_id": first.business_id}
    replicas = [first, second]
    before = [len(recorder(w.components).token_calls()) for w in replicas]

    responses = await asyncio.gather(
        *(replicas[n % 2].client.post(path, params=params, headers=PUBLISHER) for n in range(50))
    )

    assert [r.status_code for r in responses] == [200] * 50, {r.text for r in responses}
    after = [len(recorder(w.components).token_calls()) for w in replicas]
    assert sum(after) - sum(before) == 1
    tokens = {r.json()["access_token"] for r in responses}
    assert len(tokens) == 1
    (token,) = tokens
    info = await sandbox.http.get(
        f"{sandbox.url}/open.tiktokapis.com/v2/user/info/",
        params={"fields": "open_id"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert info.status_code == 200, info.text
    assert info.json()["data"]["user"]["open_id"] == creator["open_id"]
    state = await first.client.get(
        f"/v1/integrations/{integration['integration_id']}", headers=first.auth
    )
    assert state.json()["status"] == "active"
    refreshed = [e for w in replicas for e in emitted(w.components).of_type(IntegrationRefreshed)]
    assert len(refreshed) == 1


async def test_rotated_refresh_token_is_used_next_time(
    make_world: WorldFactory, sandbox: Sandbox
) -> None:
    """Three forced refreshes in a row: each uses the newest refresh token (the old one is dead
    at the sandbox), so none of them ends in invalid_grant."""
    creator = await sandbox.admin("POST", "/tiktok/users", json={"username": "rotating"})
    world = await make_world(refresh={"enabled": False, "coalesce_s": 0})
    integration = (await world.connect("tiktok", sandbox_user=creator["open_id"]))[0]
    path = f"/internal/v1/integrations/{integration['integration_id']}/refresh"
    seen = set()
    for _ in range(3):
        response = await world.client.post(
            path, params={"business_id": world.business_id}, headers=PUBLISHER
        )
        assert response.status_code == 200, response.text
        seen.add(response.json()["access_token"])
    assert len(seen) == 3
    calls = [
        c for c in recorder(world.components).token_calls() if b"refresh_token" in c.request_body
    ]
    assert [c.status for c in calls] == [200, 200, 200]
    assert isinstance(world.client, httpx.AsyncClient)
