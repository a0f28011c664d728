"""How the benchmarks' CPU watch names processes: services by their `python -m` package, never
a test session's `-m` marker expression (a session running beside a benchmark was once named
"connected or e2e" and broke its `result:` line)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cpu import ROOT, _name, _ours, _sample

pytestmark = pytest.mark.unit


def test_a_service_is_named_by_its_package() -> None:
    assert _name(10, ["/venv/bin/python", "-m", "publisher_whatsapp"], "me") == "publisher_whatsapp"


def test_a_test_session_beside_the_benchmark_is_not_a_service() -> None:
    cmdline = ["/venv/bin/python", "/venv/bin/pytest", "-m", "connected or e2e", "tests/chaos"]
    assert _name(11, cmdline, "me") is None


def test_the_infrastructure_is_named_by_what_it_is() -> None:
    assert (
        _name(12, ["/usr/bin/java", "-Xmx768m", "kafka.Kafka", "server.properties"], "me")
        == "kafka"
    )
    assert _name(13, ["/cache/ferretdb", "--handler=postgresql"], "me") == "ferretdb"


def test_only_this_checkout_s_processes_count(tmp_path: Path) -> None:
    """A process working in another checkout (a second stack on the machine) is not counted;
    this process always is."""
    here = _sample("me", root=ROOT)
    assert here[os.getpid()][0] == "me"
    elsewhere = _sample("me", root=tmp_path)  # nothing runs in a fresh directory
    assert set(elsewhere) == {os.getpid()}
    assert all(_ours(Path(f"/proc/{pid}"), ROOT) for pid in here if pid != os.getpid())
