"""Fixtures: the sandbox in-process with small chunk rules (unit), and for connected tests `env`,
publisher-tiktok on topics of its own against the platform sandbox over real HTTP
(`publisher_testenv.tiktok`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from platform_sandbox.settings import Settings as SandboxSettings
from platform_sandbox.testing import SandboxHarness
from publisher_testenv.env import env_fixture
from publisher_testenv.tiktok import Env
from publisher_testenv.tiktok_flow import SMALL_SANDBOX


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxHarness]:
    settings = SandboxSettings.model_validate(
        {"webhooks": {"auto_deliver": False}, "tiktok": SMALL_SANDBOX}
    )
    harness = SandboxHarness(settings)
    yield harness
    await harness.aclose()


env = env_fixture(Env)
