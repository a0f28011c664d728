"""Every benchmark runs in `make test`, in its quick mode, so none can rot unnoticed (issue 25).

Each `bench_*.py` in this directory (found by name: a new one is included without touching this
file) runs as `python bench_x.py --quick` against the session's stack, and must exit 0 and end
with one `result:` line holding every key its module-level `RESULT_KEYS` promises. The keys are
read from the script's source, never by running its main. Figures are never asserted: a loaded
machine makes them anything; only a script that stopped working fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from resultline import BENCHMARKS, SCRIPTS, problems, result_keys

from herald_localstack.pytest_plugin import InfraEndpoints

pytestmark = pytest.mark.e2e

QUICK_TIMEOUT_S = 240  # a quick run takes seconds; this only bounds a hung one
ROOT = BENCHMARKS.parent.parent


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_quick_run_ends_with_every_promised_result_key(script: Path, infra: InfraEndpoints) -> None:
    del infra  # held for the session, so each script reuses the stack instead of starting one
    keys = result_keys(script)
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(script), "--quick"],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=QUICK_TIMEOUT_S,
        check=False,
    )
    took = time.monotonic() - began
    tail = "\n".join((done.stdout + done.stderr).splitlines()[-25:])
    assert done.returncode == 0, f"{script.name} --quick exited {done.returncode}:\n{tail}"
    assert problems(done.stdout, keys) == [], tail
    print(f"{script.name} --quick: {took:.1f} s")
