"""Dependencies point inward: the flow (domain, handlers and their helpers) imports no
framework, driver or HTTP client; it sees the platform only through its port."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald.testkit.layering import DRIVERS, PUBLISHER_INTERNALS, Layering

pytestmark = pytest.mark.unit

LAYERING = Layering(
    Path(__file__).parents[1] / "src" / "publisher_facebook",
    inner=("domain.py", "handlers.py", "ports.py", "insights.py"),
    # herald modules the flow may use: the contract, the taxonomy, rules, runtime ports, Graph's
    # error classes (not its client).
    forbidden=(*DRIVERS, *PUBLISHER_INTERNALS),
    forbidden_exact=("herald.graph",),
)


@pytest.mark.parametrize("module", LAYERING.inner_modules(), ids=lambda p: p.name)
def test_the_flow_imports_no_framework_or_driver(module: Path) -> None:
    assert LAYERING.violations(module) == []


def test_modules_stay_small() -> None:
    assert LAYERING.oversized() == {}
