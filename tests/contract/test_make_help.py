"""`make help` lists every target the Makefile declares (issue 17: its pattern once skipped
names with digits, `test-e2e` among them)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_make_help_lists_every_phony_target() -> None:
    makefile = (ROOT / "Makefile").read_text()
    declared = set(re.search(r"^\.PHONY:(.*)$", makefile, re.MULTILINE)[1].split())  # type: ignore[index]  # the Makefile has one
    defined = set(re.findall(r"^([a-z0-9][a-z0-9-]*):", makefile, re.MULTILINE))
    listed = subprocess.run(
        ["make", "-s", "help"],  # noqa: S607 - make from PATH, as a developer runs it
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    shown = set(re.findall(r"^  make (\S+)", listed, re.MULTILINE))
    assert declared == defined
    assert shown == defined
    assert "test-e2e" in shown
