"""Processes tracked by PID file and stopped by PID, never by name.

A PID file alone is not proof: before trusting one, the command line of that PID must still
contain the process's marker (PIDs are reused). Every process leads its own session, so a stop
signals its whole group (a shell and what it started) and nothing else.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pwd

# Children this process started, kept so they can be polled and reaped (a dropped Popen of a
# running child would warn, and an unreaped one would linger as a zombie).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class Managed:
    name: str
    pidfile: Path
    logfile: Path
    marker: str  # a substring of the process's command line that identifies it
    stop_signal: signal.Signals = signal.SIGTERM  # what asks it to shut down cleanly

    def pid(self) -> int | None:
        """The live PID of this process, or None (a stale PID file is removed)."""
        try:
            record = json.loads(self.pidfile.read_text())
            pid = int(record["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if _alive(pid):
            command = _cmdline(pid)
            # An empty command line is a process between fork and exec (seen under load): ours.
            if not command or self.marker in command:
                return pid
        self.pidfile.unlink(missing_ok=True)
        return None

    def spawn(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        user: pwd.struct_passwd | None = None,
    ) -> int:
        """Start the process in its own session; as `user` when given (we are root then)."""
        self.pidfile.parent.mkdir(parents=True, exist_ok=True)
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        with self.logfile.open("ab") as log:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env),
                cwd=cwd,
                start_new_session=True,
                user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
            )
        _CHILDREN[proc.pid] = proc
        # Written whole and renamed into place, so a reader never sees half a PID file.
        partial = self.pidfile.with_suffix(".tmp")
        partial.write_text(json.dumps({"pid": proc.pid, "started_at": time.time()}))
        partial.replace(self.pidfile)
        return proc.pid

    def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM the process group, SIGKILL it after `timeout_s`; True if something ran."""
        pid = self.pid()
        if pid is None:
            return False
        terminate_group(pid, timeout_s, self.stop_signal)
        self.pidfile.unlink(missing_ok=True)
        return True

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.logfile.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def terminate_group(pid: int, timeout_s: float, first: signal.Signals = signal.SIGTERM) -> None:
    """`first` to the process group, SIGKILL if it still runs after `timeout_s`."""
    _signal_group(pid, first)
    deadline = time.monotonic() + timeout_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        _signal_group(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.05)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    except PermissionError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None and child.poll() is not None:
        del _CHILDREN[pid]  # exited, and now reaped
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _cmdline(pid: int) -> str:
    try:
        return (
            Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        )
    except OSError:
        return ""


def processes_with_env(key: str, value: str) -> list[int]:
    """PIDs of our processes whose environment holds `key=value` (strays of a stack run)."""
    needle = f"{key}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0") and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    """True if something already listens on host:port (so our process could not bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False
