"""Fixtures: a sandbox in-process (`platform_sandbox.testing.SandboxHarness`), default or with
settings a test chooses."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from platform_sandbox.settings import Settings
from platform_sandbox.testing import SandboxHarness

HarnessFactory = Callable[..., SandboxHarness]


@pytest.fixture
async def harness() -> AsyncIterator[SandboxHarness]:
    built = SandboxHarness(Settings.model_validate({"webhooks": {"auto_deliver": False}}))
    yield built
    await built.aclose()


@pytest.fixture
async def make_harness() -> AsyncIterator[HarnessFactory]:
    """Build a sandbox from settings overrides, e.g. `make(whatsapp={"throughput_mps": 2})`."""
    built: list[SandboxHarness] = []

    def make(**overrides: Any) -> SandboxHarness:
        overrides.setdefault("webhooks", {})
        overrides["webhooks"].setdefault("auto_deliver", False)
        harness = SandboxHarness(Settings.model_validate(overrides))
        built.append(harness)
        return harness

    yield make
    for harness in built:
        await harness.aclose()
