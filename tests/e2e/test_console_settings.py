"""An owner changes the business's time zone on the console's Settings page, in Chromium against
the running system: the zone is auth-service's (`PATCH /v1/business`), and every page of the
owner's session follows at once, the console's own zone (UTC) only a fallback. axe finds no
serious or critical violation on the page; its screenshot is saved as `settings.png`. The zone
is set back to the business's usual one (Europe/Berlin) afterwards, for the other console tests
of the session. The browser fixtures are tests/e2e/conftest.py's."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect
from tests.conftest import Connected
from tests.e2e.console_browser import (
    ZONE,
    demo_owner,
    no_serious_violations,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.e2e

OTHER = "Asia/Tokyo"


def _business_zone(connected: Connected) -> str | None:
    auth = connected.system.url("auth-service")
    answer = httpx.get(
        f"{auth}/v1/business",
        headers={"Authorization": f"Bearer {connected.api_key}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    zone: str | None = answer.json()["timezone"]
    return zone


async def test_an_owner_changes_the_business_zone_in_chromium(
    connected: Connected,
    console_url: str,
    browser: Browser,
    axe_script: Path,
) -> None:
    email, password = demo_owner(connected)
    assert _business_zone(connected) == ZONE
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = await context.new_page()
    await sign_in(page, console_url, email, password)
    await expect(page.get_by_text(f"Times are shown in {ZONE}.")).to_be_visible()
    try:
        await page.get_by_role("link", name="Settings", exact=True).click()
        await expect(page.get_by_role("heading", name="Settings", level=1)).to_be_visible()
        zone = page.get_by_label("Time zone", exact=True)
        await expect(zone).to_have_value(ZONE)
        await no_serious_violations(page, axe_script)
        await screenshot(page, "settings")

        await zone.focus()  # keyboard: the select, then its button
        await zone.select_option(OTHER)
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("button", name="Save the time zone")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(re.compile(r"/settings\?done=zone$"))
        await expect(page.get_by_role("status")).to_contain_text(f"reads times in {OTHER}")
        assert _business_zone(connected) == OTHER  # kept by auth-service, not the console

        await page.goto(f"{console_url}/compose")
        await expect(page.get_by_text(f"In the business's time zone, {OTHER}.")).to_be_visible()
        await expect(page.get_by_text(f"Times are shown in {OTHER}.")).to_be_visible()
    finally:
        await page.goto(f"{console_url}/settings")
        await page.get_by_label("Time zone", exact=True).select_option(ZONE)
        await page.get_by_role("button", name="Save the time zone").click()
        await context.close()
    assert _business_zone(connected) == ZONE
