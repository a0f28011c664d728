"""`scripts/test-tiers` runs the connected and e2e tiers as two sessions split by place (ADR 0011).

A test file under neither session's places would never run in `make test`, silently. So every
test file of the repository (but `tests/deploy`, which `make check-deploy` runs) must lie under
one of the places the script names, and no place may be named twice.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).parents[2]
SCRIPT = ROOT / "scripts" / "test-tiers"
SKIPPED_DIRS = {".git", ".venv", ".run", ".cache", "node_modules", "__pycache__"}


def session_places() -> dict[str, list[str]]:
    """Each side-by-side session's places, read from the lines that start it."""
    text = SCRIPT.read_text().replace("\\\n", " ")
    places: dict[str, list[str]] = {}
    for match in re.finditer(r'HERALD_TEST_TIMINGS_NAME=(\w+) "\$\{run\[@\]\}" (.*?)>', text):
        words = shlex.split(match.group(2))
        assert words[:2] == ["-m", "$tiers"], f"unexpected arguments in {SCRIPT}: {words}"
        places[match.group(1)] = words[2:]
    return places


def repository_test_files() -> list[Path]:
    found = []
    for path in ROOT.rglob("test_*.py"):
        relative = path.relative_to(ROOT)
        if SKIPPED_DIRS & set(relative.parts) or relative.parts[:2] == ("tests", "deploy"):
            continue
        found.append(relative)
    return found


def test_two_sessions_cover_every_test_file_once() -> None:
    places = session_places()
    assert set(places) == {"services", "system"}, places
    named = [place for each in places.values() for place in each]
    assert len(named) == len(set(named)), f"a place is in both sessions: {named}"
    files = repository_test_files()
    assert len(files) > 100, "the search for test files found too few: is ROOT right?"
    uncovered = [
        str(path) for path in files if not any(path.is_relative_to(place) for place in named)
    ]
    assert not uncovered, (
        f"test files neither session runs (add their place to {SCRIPT}): {uncovered}"
    )
