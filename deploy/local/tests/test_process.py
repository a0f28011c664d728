"""PID-tracked processes: started detached, recognised by marker, stopped by PID."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import pytest

from herald_localstack.process import Managed, port_taken, processes_with_env

pytestmark = pytest.mark.unit

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)", "herald-test-sleeper"]


def _managed(tmp_path: Path, marker: str = "herald-test-sleeper") -> Managed:
    return Managed("sleeper", tmp_path / "s.pid", tmp_path / "s.log", marker)


def test_spawn_then_stop_by_pid(tmp_path: Path) -> None:
    proc = _managed(tmp_path)
    pid = proc.spawn(SLEEPER, env=dict(os.environ), cwd=tmp_path)

    assert proc.pid() == pid
    assert proc.stop(timeout_s=5) is True
    assert proc.pid() is None
    assert not (tmp_path / "s.pid").exists()
    assert proc.stop() is False  # stopping what is not running is a no-op


def test_a_pid_file_whose_process_is_someone_else_is_not_trusted(tmp_path: Path) -> None:
    proc = _managed(tmp_path)
    # Our own PID is alive but its command line lacks the marker: a reused PID.
    (tmp_path / "s.pid").write_text(json.dumps({"pid": os.getpid()}))

    assert proc.pid() is None
    assert not (tmp_path / "s.pid").exists()
    assert proc.stop() is False


def test_a_process_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(120)",
        "herald-test-sleeper",
    ]
    proc = _managed(tmp_path)
    proc.spawn(stubborn, env=dict(os.environ), cwd=tmp_path)

    assert proc.stop(timeout_s=0.5) is True
    assert proc.pid() is None


def test_strays_are_found_by_their_environment_marker(tmp_path: Path) -> None:
    proc = _managed(tmp_path)
    pid = proc.spawn(SLEEPER, env={**os.environ, "HERALD_TEST_MARK": str(tmp_path)}, cwd=tmp_path)
    try:
        assert processes_with_env("HERALD_TEST_MARK", str(tmp_path)) == [pid]
    finally:
        proc.stop(timeout_s=5)
    assert processes_with_env("HERALD_TEST_MARK", str(tmp_path)) == []


def test_port_taken() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert port_taken(port) is True
    assert port_taken(port) is False
