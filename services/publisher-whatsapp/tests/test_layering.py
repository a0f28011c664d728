"""Dependencies point inward: the flow (domain, bodies, pacing, sending, handlers, webhooks and
their ports) imports no framework, driver or HTTP client, nor the adapters; modules stay small."""

from __future__ import annotations

from pathlib import Path

import pytest

from herald.testkit.layering import DRIVERS, PUBLISHER_INTERNALS, Layering

pytestmark = pytest.mark.unit

LAYERING = Layering(
    Path(__file__).parents[1] / "src" / "publisher_whatsapp",
    inner=(
        "domain.py",
        "bodies.py",
        "pace.py",
        "sending.py",
        "handlers.py",
        "webhooks.py",
        "signatures.py",
        "ports.py",
    ),
    forbidden=(*DRIVERS, *PUBLISHER_INTERNALS, "publisher_whatsapp.adapters"),
    forbidden_exact=("herald.graph",),
)


@pytest.mark.parametrize("module", LAYERING.inner_modules(), ids=lambda p: p.name)
def test_the_flow_imports_no_framework_or_driver(module: Path) -> None:
    assert LAYERING.violations(module) == []


def test_modules_stay_small() -> None:
    assert LAYERING.oversized() == {}
