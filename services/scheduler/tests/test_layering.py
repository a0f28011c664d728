"""Dependencies point inward: domain, handlers and the dispatcher import no framework or driver,
nor `herald.mongo` (stored documents are the adapters' business); modules stay small."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald.testkit.layering import DRIVERS, Layering

pytestmark = pytest.mark.unit

PURE = (
    "domain",
    "models",
    "recurrence",
    "contacts",
    "imports",
    "personalize",
    "broadcast",
    "deliveries",
)
LAYERING = Layering(
    Path(__file__).parents[1] / "src" / "scheduler",
    inner=(*(f"{name}.py" for name in PURE), "dispatcher.py", "expander.py", "handlers/*.py"),
    forbidden=(*DRIVERS, "herald.mongo"),
    max_lines=330,
)


@pytest.mark.parametrize("module", LAYERING.inner_modules(), ids=lambda p: p.name)
def test_no_framework_imports(module: Path) -> None:
    assert LAYERING.violations(module) == []


def test_modules_stay_small() -> None:
    assert LAYERING.oversized() == {}
