"""Where a run's CPU went, per process: measured from /proc, not guessed.

`CpuWatch` reads every process's user and system time at the start and the end of a run and
names each one by what it runs (a Herald service by its `python -m` package, Kafka, FerretDB,
PostgreSQL's backends summed, this load generator). Only this checkout's processes count (their
working directory is in it: the services run in it, Kafka, FerretDB and PostgreSQL in its
`.run/`), so another checkout's stack on the same machine does not bend the figures. Linux only,
which is where we run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _name(pid: int, cmdline: list[str], me: str) -> str | None:
    if pid == os.getpid():
        return me
    if not cmdline:
        return None
    if len(cmdline) > 2 and cmdline[1] == "-m":  # `python -m <service>`, not `pytest -m <expr>`
        return cmdline[2]
    exe = Path(cmdline[0]).name
    if exe == "java" and "kafka.Kafka" in cmdline:
        return "kafka"
    return _SERVERS.get(exe.rstrip(":"))


_SERVERS = {"ferretdb": "ferretdb", "postgres": "postgres"}


ROOT = Path(__file__).resolve().parents[2]  # this checkout


def _ours(entry: Path, root: Path) -> bool:
    try:
        return (entry / "cwd").resolve().is_relative_to(root)
    except OSError:
        return False


def _sample(me: str, root: Path = ROOT) -> dict[int, tuple[str, float]]:
    found: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid != os.getpid() and not _ours(entry, root):
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        cmdline = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
        name = _name(pid, cmdline, me)
        if name is None and stat.split(" ", 2)[1] == "(postgres)":
            name = "postgres"  # PostgreSQL's backends rename themselves
        if name is None:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        utime, stime = int(fields[11]), int(fields[12])
        found[pid] = (name, (utime + stime) / _TICKS)
    return found


@dataclass
class CpuWatch:
    """CPU seconds per named process between `start()` and `stop()`; `me` names this process."""

    me: str = "load generator"
    began: float = 0.0
    wall_s: float = 0.0
    _before: dict[int, tuple[str, float]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def start(self) -> None:
        self._before = _sample(self.me)
        self.began = time.monotonic()

    def stop(self) -> dict[str, float]:
        after = _sample(self.me)
        self.wall_s = time.monotonic() - self.began
        totals: dict[str, float] = {}
        for pid, (name, cpu) in after.items():
            earlier = self._before.get(pid)
            used = cpu - earlier[1] if earlier and earlier[0] == name else cpu
            totals[name] = totals.get(name, 0.0) + max(used, 0.0)
        self.seconds = dict(sorted(totals.items(), key=lambda kv: -kv[1]))
        return self.seconds

    def busiest(self) -> str:
        return next(iter(self.seconds), "-")

    def print(self, say: Callable[[str], None] = print) -> None:
        cores = os.cpu_count() or 1
        total = sum(self.seconds.values())
        say(
            f"  CPU by process over {self.wall_s:.1f} s ({cores} cores = "
            f"{cores * self.wall_s:.0f} core-seconds; these used {total:.0f}):"
        )
        for name, used in self.seconds.items():
            if used >= 0.05:
                share = 100 * used / max(self.wall_s, 1e-9)
                say(f"    {used:8.1f} s  {share:5.0f} % of a core  {name}")
