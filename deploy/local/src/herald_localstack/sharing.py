"""Who uses the stack's Kafka and FerretDB, so that the last test session or benchmark out stops
what such users started, and none stops them under another.

Each user leaves a marker named by its PID in `<run dir>/users/`; what users started is listed
in `<run dir>/users/started`. A user that leaves removes its marker and, if no other marker
belongs to a live process, stops what is listed. `make up` adopts a stack users started (it
clears the list), so its services never lose Kafka or FerretDB to a test session ending.
Every call runs under the stack's file lock (`stack.locked`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from herald_localstack.config import StackConfig

STARTED = "started"


def _users(cfg: StackConfig) -> Path:
    return cfg.run_dir / "users"


def join(cfg: StackConfig, started: Iterable[str], pid: int | None = None) -> None:
    """Mark `pid` (this process) a user, and note what it started for the users."""
    users = _users(cfg)
    users.mkdir(parents=True, exist_ok=True)
    (users / str(pid or os.getpid())).touch()
    names = set(started)
    if names:
        listed = users / STARTED
        known = set(listed.read_text().split()) if listed.exists() else set()
        listed.write_text("".join(f"{n}\n" for n in sorted(known | names)))


def leave(
    cfg: StackConfig,
    stop: Callable[[tuple[str, ...]], list[str]],
    pid: int | None = None,
    alive: Callable[[int], bool] | None = None,
) -> list[str]:
    """Unmark `pid`; if no live user is left, `stop` what users started. Returns what stopped."""
    users = _users(cfg)
    (users / str(pid or os.getpid())).unlink(missing_ok=True)
    is_alive = alive or _alive
    others = [p for p in users.glob("[0-9]*") if p.name.isdigit()]
    live = [p for p in others if is_alive(int(p.name))]
    for dead in set(others) - set(live):
        dead.unlink(missing_ok=True)
    listed = users / STARTED
    if live or not listed.exists():
        return []
    names = tuple(listed.read_text().split())
    listed.unlink()
    return stop(names) if names else []


def adopt(cfg: StackConfig) -> None:
    """The stack belongs to `make up` now: users leaving stop nothing."""
    (_users(cfg) / STARTED).unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
