"""Dependencies point inward: domain and handlers import no framework or driver; modules stay
small."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald.testkit.layering import Layering

pytestmark = pytest.mark.unit

PURE = ("domain", "recurrence", "contacts", "imports", "personalize", "broadcast", "deliveries")
LAYERING = Layering(
    Path(__file__).parents[1] / "src" / "scheduler",
    inner=(*(f"{name}.py" for name in PURE), "handlers/*.py"),
    max_lines=330,
)


@pytest.mark.parametrize("module", LAYERING.inner_modules(), ids=lambda p: p.name)
def test_no_framework_imports(module: Path) -> None:
    assert LAYERING.violations(module) == []


def test_modules_stay_small() -> None:
    assert LAYERING.oversized() == {}
