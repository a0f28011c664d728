"""Root pytest configuration: the infrastructure fixtures, the test-tier rule and the timings.

Every test carries exactly one tier marker (`unit`, `connected`, `e2e`), so `-m` selects tiers
reliably and a test that needs Kafka or MongoDB cannot hide among the unit tests.

Every session writes where its time went to `.run/test-timings/<name>.tsv` (named after its `-m`
expression, or `HERALD_TEST_TIMINGS_NAME`; seconds per file, setup + call + teardown, slowest
first) and prints the ten slowest files: the budget of `make test` (15 min warm, 25 min cold on
the 2-core machine) is kept by looking there first.
"""

from __future__ import annotations

import os
import re
import time
from collections import defaultdict
from pathlib import Path

import pytest

pytest_plugins = ["herald_localstack.pytest_plugin"]

TIERS = ("unit", "connected", "e2e")
INFRA_FIXTURES = {"infra", "mongo_client", "mongo_db", "new_topic"}
TIMINGS_DIR = Path(__file__).parent / ".run" / "test-timings"

_per_file: defaultdict[str, float] = defaultdict(float)
_tests_per_file: defaultdict[str, int] = defaultdict(int)
_started = time.monotonic()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    del config
    problems = []
    for item in items:
        tiers = {m.name for m in item.iter_markers() if m.name in TIERS}
        if len(tiers) != 1:
            problems.append(f"{item.nodeid}: needs exactly one of {TIERS}, has {sorted(tiers)}")
        elif tiers == {"unit"} and INFRA_FIXTURES & set(getattr(item, "fixturenames", ())):
            problems.append(f"{item.nodeid}: uses real infrastructure but is marked unit")
    if problems:
        raise pytest.UsageError("test tier markers:\n  " + "\n  ".join(problems))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path = report.nodeid.split("::", 1)[0]
    _per_file[path] += report.duration
    if report.when == "call":
        _tests_per_file[path] += 1


def timings_name(markexpr: str) -> str:
    """The file a session's timings go to, named after its `-m` expression."""
    return re.sub(r"[^a-z0-9]+", "-", markexpr.lower()).strip("-") or "all"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _per_file or os.environ.get("HERALD_TEST_TIMINGS") == "off":
        return
    wall = time.monotonic() - _started
    ranked = sorted(_per_file.items(), key=lambda kv: kv[1], reverse=True)
    name = os.environ.get("HERALD_TEST_TIMINGS_NAME") or timings_name(
        str(terminalreporter.config.getoption("markexpr") or "")
    )
    TIMINGS_DIR.mkdir(parents=True, exist_ok=True)
    lines = [f"# wall_s={wall:.1f} files={len(ranked)} tests={sum(_tests_per_file.values())}"]
    lines += [f"{secs:.2f}\t{_tests_per_file[path]}\t{path}" for path, secs in ranked]
    where = TIMINGS_DIR / f"{name}.tsv"
    where.write_text("\n".join(lines) + "\n")
    terminalreporter.write_sep("-", f"slowest files of {wall:.0f} s (all of them: {where})")
    for path, secs in ranked[:10]:
        terminalreporter.write_line(f"{secs:8.1f} s  {_tests_per_file[path]:4d} tests  {path}")
