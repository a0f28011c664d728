"""Dependencies point inward: domain and handlers import no framework or driver."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald.testkit.layering import Layering

pytestmark = pytest.mark.unit

LAYERING = Layering(
    Path(__file__).parents[1] / "src" / "auth_service",
    inner=("domain.py", "people.py", "signatures.py", "vault.py", "handlers/*.py"),
    max_lines=320,
)


@pytest.mark.parametrize("module", LAYERING.inner_modules(), ids=lambda p: p.name)
def test_no_framework_imports(module: Path) -> None:
    assert LAYERING.violations(module) == []


def test_modules_stay_small() -> None:
    assert LAYERING.oversized() == {}
