"""The sandbox as its own process keeps its collector's pauses short (steady.py); hosted in a
test process it leaves that process's collector alone."""

from __future__ import annotations

import asyncio
import gc

import pytest

from herald.testkit import running
from platform_sandbox.app import create_app
from platform_sandbox.settings import Settings
from platform_sandbox.steady import keep_collections_short

pytestmark = pytest.mark.unit


class Kept:
    """A tracked object the sandbox would hold on to (its state)."""


async def test_what_survives_is_frozen_out_of_later_collections() -> None:
    gc.unfreeze()
    kept = [Kept() for _ in range(1_000)]
    task = asyncio.create_task(keep_collections_short(0.01))
    try:
        await asyncio.sleep(0.1)
        assert gc.get_freeze_count() >= len(kept)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        gc.unfreeze()


@pytest.mark.parametrize(("own_process", "frozen"), [(True, True), (False, False)])
async def test_only_the_sandbox_in_its_own_process_freezes(own_process: bool, frozen: bool) -> None:
    gc.unfreeze()
    app = create_app(Settings(gc_freeze_every_s=0.01), own_process=own_process)
    try:
        async with running(app):
            await asyncio.sleep(0.1)
            assert (gc.get_freeze_count() > 0) is frozen
    finally:
        gc.unfreeze()
