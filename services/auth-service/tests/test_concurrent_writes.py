"""FerretDB applies concurrent updates of one document as whole-document writes that lose each
other's changes (measured: most of 400 concurrent `$set`s of different fields were lost). So
uses are recorded apart from the records they touch: a use never undoes a revocation, a
refresh or a disconnect."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from auth_service.handlers.base import integration_lock
from auth_service.handlers.keys import create_api_key
from auth_service.testing import Sandbox, WorldFactory
from herald.events import IntegrationStatus

pytestmark = pytest.mark.connected


async def test_uses_never_undo_a_revocation(make_world: WorldFactory) -> None:
    world = await make_world()
    keys = world.components.deps.keys
    for _ in range(5):
        issued = await create_api_key(world.components.deps, world.business_id, "racy")
        key_id = issued.record.key_id
        now = datetime.now(UTC)
        await asyncio.gather(
            keys.revoke(key_id, now), *(keys.touch(key_id, now) for _ in range(20))
        )
        stored = await keys.get(key_id)
        assert stored is not None
        assert stored.revoked_at is not None
        assert stored.last_used_at is not None


async def test_uses_never_undo_a_token_write(make_world: WorldFactory, sandbox: Sandbox) -> None:
    world = await make_world()
    creator = await sandbox.admin("POST", "/tiktok/users", json={"username": "racy.writes"})
    (connected,) = await world.connect("tiktok", sandbox_user=creator["open_id"])
    repo = world.components.deps.integrations
    iid = connected["integration_id"]
    for n in range(5):
        async with integration_lock(world.components.deps, iid):
            current = await repo.get(iid)
            assert current is not None
            changed = replace(current, reason=f"write {n}", status=IntegrationStatus.ACTIVE)
            now = datetime.now(UTC)
            results = await asyncio.gather(
                repo.replace(changed, expected_version=current.version),
                *(repo.touch(iid, now) for _ in range(20)),
            )
        assert results[0] is True
        stored = await repo.get(iid)
        assert stored is not None
        assert stored.reason == f"write {n}"
        assert stored.version == current.version + 1
        assert stored.last_used_at is not None
