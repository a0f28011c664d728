"""Fixtures of publisher-tiktok's tests: the sandbox in-process with small chunk rules."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from platform_sandbox.settings import Settings as SandboxSettings
from platform_sandbox.testing import SandboxHarness
from publisher_tiktok.testing import SMALL_SANDBOX


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxHarness]:
    settings = SandboxSettings.model_validate(
        {"webhooks": {"auto_deliver": False}, "tiktok": SMALL_SANDBOX}
    )
    harness = SandboxHarness(settings)
    yield harness
    await harness.aclose()
