"""Key rotation over 1,000 integrations while refreshes run: every record still opens and none
is left under the old key id."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from auth_service.composition import Components
from auth_service.domain import AuthServer, Integration, RefreshMode, SecretField
from auth_service.handlers.base import open_tokens, seal_tokens
from auth_service.handlers.lifecycle import new_integration_id
from auth_service.handlers.maintenance import rotate_keys
from auth_service.handlers.tokens import force_refresh
from auth_service.testing import KEY_1, KEY_2, Sandbox, WorldFactory, recorder
from herald.events import IntegrationStatus
from herald.topics import Platform

pytestmark = pytest.mark.connected
NEW_KEYRING = {"keys": {"k1": KEY_1, "k2": KEY_2}, "primary_kid": "k2"}


def _synthetic(components: Components, business_id: str, n: int) -> Integration:
    integration_id = new_integration_id()
    tokens = {SecretField.ACCESS: f"EAAS-synthetic-{n}-access"}
    return Integration(
        id=integration_id,
        business_id=business_id,
        platform=Platform.WHATSAPP,
        account_id=f"10600000000{n:04d}",
        account_name=f"Number {n}",
        account={"phone_number_id": f"10600000000{n:04d}", "waba_id": "102"},
        scopes=("whatsapp_business_messaging",),
        status=IntegrationStatus.ACTIVE,
        mode=RefreshMode.CHECK,
        auth_server=AuthServer.FACEBOOK,
        provider_user_id=None,
        secrets=seal_tokens(components.deps.vault, business_id, integration_id, tokens),
        connected_at=datetime.now(UTC),
    )


async def _refresh_until(
    stop: asyncio.Event, components: Components, business_id: str, ids: list[str]
) -> int:
    done = 0
    while not stop.is_set():
        for integration_id in ids:
            await force_refresh(components.deps, business_id, integration_id)
            done += 1
        await asyncio.sleep(1.0)  # a steady trickle, as the refresh loop would make
    return done


# FerretDB commits roughly 40 writes a second here, and a rotation writes three times per
# integration (lock, record, unlock): this test takes minutes, not seconds.
@pytest.mark.timeout(1200)
async def test_rotation_while_refreshing(make_world: WorldFactory, sandbox: Sandbox) -> None:
    old = await make_world(refresh={"enabled": False, "coalesce_s": 0})
    real = []
    for n in range(3):
        creator = await sandbox.admin("POST", "/tiktok/users", json={"username": f"rot{n}"})
        real += [
            i["integration_id"]
            for i in await old.connect("tiktok", sandbox_user=creator["open_id"])
        ]
    gate = asyncio.Semaphore(20)

    async def insert(n: int) -> None:
        async with gate:
            await old.components.deps.integrations.insert(
                _synthetic(old.components, old.business_id, n)
            )

    await asyncio.gather(*(insert(n) for n in range(997)))
    # Records per key id: TikTok integrations hold an access and a refresh token.
    assert (await old.components.deps.integrations.count_by_kid()) == {"k1": 997 + 3 * 2}

    rotating = await make_world(refresh={"enabled": False, "coalesce_s": 0}, vault=NEW_KEYRING)
    refresher = await make_world(refresh={"enabled": False, "coalesce_s": 0}, vault=NEW_KEYRING)
    stop = asyncio.Event()
    refreshing = asyncio.create_task(
        _refresh_until(stop, refresher.components, old.business_id, real)
    )
    try:
        report = await rotate_keys(rotating.components.deps)
    finally:
        stop.set()
        refreshes = await refreshing

    assert refreshes >= 3
    assert report.failed == []
    assert "k1" not in report.by_kid
    assert report.rewrapped >= 997  # the synthetic ones are never refreshed: all rewrapped
    deps = rotating.components.deps
    ids = await deps.integrations.all_ids()
    assert len(ids) == 1000
    for integration_id in ids:
        integration = await deps.integrations.get(integration_id)
        assert integration is not None
        assert {s.kid for s in integration.secrets.values()} == {"k2"}
        assert open_tokens(deps.vault, integration)[SecretField.ACCESS]
    for integration_id in real:
        integration = await deps.integrations.get(integration_id)
        assert integration is not None
        assert integration.status is IntegrationStatus.ACTIVE
        calls = recorder(refresher.components).token_calls()
        assert all(c.status == 200 for c in calls)
