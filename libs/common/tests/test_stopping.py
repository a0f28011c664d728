"""`cancel_and_wait` ends a task whose cancellation Python 3.11's `asyncio.wait_for` swallowed
(CPython gh-86296): the state the scheduler's retention loop was found in when its shutdown hung."""

from __future__ import annotations

import asyncio

import pytest

from herald.stopping import cancel_and_wait

pytestmark = pytest.mark.unit


async def _a_loop_that_lost_its_cancellation() -> tuple[asyncio.Task[None], asyncio.Future[int]]:
    finished: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def sweep_then_sleep() -> None:
        await asyncio.wait_for(finished, 10)  # a library call, finishing just as we cancel
        await asyncio.sleep(3600)  # the loop's pause until the next sweep

    task = asyncio.create_task(sweep_then_sleep())
    await asyncio.sleep(0)
    return task, finished


async def test_a_swallowed_cancellation_is_repeated_until_the_task_ends() -> None:
    task, finished = await _a_loop_that_lost_its_cancellation()
    finished.set_result(1)
    await cancel_and_wait(task, again_after_s=0.01)
    assert task.cancelled()


async def test_what_a_task_raised_is_read_and_ended_tasks_and_none_are_fine() -> None:
    async def fails() -> None:
        raise RuntimeError

    failed = asyncio.create_task(fails())
    await asyncio.sleep(0)
    sleeping = asyncio.create_task(asyncio.sleep(3600))
    await cancel_and_wait(failed, None, sleeping)
    assert isinstance(failed.exception(), RuntimeError)
    assert sleeping.cancelled()
