"""A test about to reach its pytest-timeout first writes every asyncio task's await chain to its
stderr (shown with the failure). pytest-timeout prints thread stacks only, and for an async test
those show an event loop waiting in `select`, whatever it waits for; the chains say which task
waits on what. That is how the scheduler's 300 s shutdown hang was found (herald.stopping).
Registered by `herald_localstack.pytest_plugin`.
"""

from __future__ import annotations

import asyncio
import gc
import io
import sys
import threading
from collections.abc import Generator
from typing import Any

import pytest

MARGIN_S = 10.0  # written this long before the timeout fails the test


def task_chains() -> str:
    """Every pending task of every open event loop, with the frames of what it awaits."""
    out = io.StringIO()
    loops = [
        o
        for o in gc.get_objects()
        if isinstance(o, asyncio.AbstractEventLoop) and not o.is_closed()
    ]
    for loop in loops:
        tasks = asyncio.all_tasks(loop)
        out.write(f"--- {len(tasks)} tasks on {loop!r}\n")
        for task in tasks:
            out.write(f"{task!r}\n")
            awaited: Any = task.get_coro()
            while awaited is not None:
                frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "ag_frame", None)
                if frame is not None:
                    code = frame.f_code
                    out.write(f"    {code.co_filename}:{frame.f_lineno} {code.co_name}\n")
                awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "ag_await", None)
    return out.getvalue()


def _timeout_s(item: pytest.Item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker is not None and marker.args:
        return float(marker.args[0])
    try:
        return float(item.config.getini("timeout") or 0)
    except (ValueError, TypeError):  # pytest-timeout absent, or no number
        return 0.0


def _write(nodeid: str) -> None:
    sys.stderr.write(f"\n=== asyncio tasks of {nodeid}, {MARGIN_S:.0f} s before its timeout\n")
    sys.stderr.write(task_chains())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, None, None]:
    timeout_s = _timeout_s(item)
    timer = None
    if timeout_s > 2 * MARGIN_S:
        timer = threading.Timer(timeout_s - MARGIN_S, _write, args=(item.nodeid,))
        timer.daemon = True
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()
