"""The page logic imports no framework; no module grows past the size limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald.testkit.layering import Layering

pytestmark = pytest.mark.unit

LAYERING = Layering(
    Path(__file__).parents[1] / "src" / "console",
    inner=(
        "views.py",
        "sessions.py",
        "compose.py",
        "preview.py",
        "calendar.py",
        "analytics.py",
        "broadcasts.py",
        "timeline.py",
        "campaigns.py",
        "recurrence.py",
        "overview.py",
    ),
)


@pytest.mark.parametrize("module", LAYERING.inner_modules(), ids=lambda p: p.name)
def test_no_framework_imports(module: Path) -> None:
    assert LAYERING.violations(module) == []


def test_modules_stay_small() -> None:
    assert LAYERING.oversized() == {}
