"""The console's browser tests' fixtures (tests/e2e/test_console*.py), available to every e2e
test without an import; their helpers are in tests/e2e/console_browser.py."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright
from tests.conftest import Connected
from tests.e2e.console_browser import CHROMIUM, ROOT


@pytest.fixture(scope="module")
def console_url(connected: Connected) -> str:
    """The system's own console (`make up`'s, on the session's auth-service and scheduler; its
    own fallback zone is UTC, and the pages show the business's, Europe/Berlin, set by its owner
    as `make up` sets the demo's): the one auth-service lets a connection started on its
    Integrations page return to (HERALD_AUTH_OAUTH__RETURN_URLS)."""
    url = connected.system.url("console")
    assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200
    return url


@pytest.fixture(scope="module")
def chromium() -> Path:
    """Debian's Chromium, which Playwright drives (its own browser download cannot reach its
    host here, ADR 0022)."""
    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: the console's browser tests drive Debian's Chromium. "
        "Install it with `apt-get install -y chromium` (.ci/run does this on a fresh machine)."
    )
    return CHROMIUM


@pytest.fixture(scope="module")
def axe_script() -> Path:
    """axe.min.js, installed once from the lock file by the project's own script."""
    installed = subprocess.run(  # noqa: S603 - the project's own script
        [str(ROOT / "scripts" / "ensure-axe-core")],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    return Path(installed.stdout.strip())


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """A Chromium of the test's own, closed after it."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium))
        try:
            yield launched
        finally:
            await launched.close()
