"""What a test about to time out writes: each pending task and the frames it awaits."""

from __future__ import annotations

import asyncio

import pytest

from herald.stopping import cancel_and_wait
from herald_localstack.hangdump import task_chains

pytestmark = pytest.mark.unit


async def test_each_task_is_listed_with_what_it_awaits() -> None:
    async def waits_for_ever() -> None:
        await asyncio.sleep(3600)

    async def holds_the_shutdown() -> None:
        await waits_for_ever()

    task = asyncio.create_task(holds_the_shutdown(), name="probe")
    await asyncio.sleep(0)
    try:
        text = task_chains()
    finally:
        await cancel_and_wait(task)
    lines = text.splitlines()
    [at] = [n for n, line in enumerate(lines) if "name='probe'" in line]
    assert lines[at + 1].endswith(" holds_the_shutdown")
    assert lines[at + 2].endswith(" waits_for_ever")
    assert lines[at + 3].endswith(" sleep")
