"""The console's Audiences, Compose and Broadcasts pages in a real browser against the whole
running system (issue 22): Debian's Chromium driven by Playwright, as tests/e2e/test_console.py
does.

A person signs in, creates an audience, imports a CSV file with one bad row and reads the
scheduler's report naming it (line, field, reason); composes a WhatsApp broadcast of the
sandbox's `hello_world` template, choosing that audience by its name in Compose's select; and
the Broadcasts page shows it: its card updates itself while it is sent (htmx polling), then its
funnel with both good contacts sent. axe-core finds no serious or critical violation on either
page, at desktop or phone width; the screenshots are saved under .run/test-reports/console/
(docs/console.md shows the Broadcasts one).
"""

from __future__ import annotations

import random
import re
import uuid
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from tests.conftest import Connected
from tests.e2e.console_browser import (
    at_a_phones_width,
    no_serious_violations,
    screenshot,
    sign_in_with_the_key,
)

pytestmark = pytest.mark.e2e


def _numbers() -> tuple[str, str]:
    """Two E.164 numbers of this run (the sandbox delivers to any number it was not told to
    fail)."""
    prefix = f"{random.SystemRandom().randrange(10_000):04d}"
    return f"+3519{prefix}00001", f"+3519{prefix}00002"


async def _compose_broadcast(page: Page, connected: Connected, name: str, audience_id: str) -> str:
    """Compose the broadcast: the WhatsApp account, the sandbox's `hello_world` template, the
    audience chosen by its name in Compose's select; scheduled now. Its post id."""
    whatsapp = connected.integrations["whatsapp"]
    nav = page.get_by_role("navigation", name="Console")
    await nav.get_by_role("link", name="Compose").click()
    await page.locator(f'input[name="target"][value="{whatsapp}"]').check()
    await page.locator(f"#o-{whatsapp}-template").fill("hello_world")
    await page.locator(f"#o-{whatsapp}-language").fill("en_US")
    audience = page.locator(f"#o-{whatsapp}-audience_id")
    await expect(audience).to_have_accessible_name("Audience")
    await audience.select_option(label=f"{name} (2 of 2 opted in)")
    await expect(audience).to_have_value(audience_id)
    await page.get_by_label("Now", exact=True).check()
    await page.get_by_role("button", name="Schedule post").click()
    await expect(page).to_have_url(re.compile(r"/calendar\?view=day&day=.*#post-"))
    await expect(page.get_by_role("status")).to_contain_text("The post is scheduled")
    return page.url.rsplit("#post-", 1)[1]


async def _create_and_import(page: Page, url: str, name: str, axe: Path) -> str:
    """Create the audience on the Audiences page, import a CSV with one bad row; its id."""
    await page.get_by_role("link", name="Audiences", exact=True).click()
    await expect(page.get_by_role("heading", name="Audiences", level=1)).to_be_visible()
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_label("Custom fields (optional)").fill("city")
    await page.get_by_role("button", name="Create audience").click()
    await expect(page).to_have_url(
        re.compile(re.escape(f"{url}/audiences/au_") + r".*done=created")
    )
    audience_id = page.url.split("/audiences/")[1].split("?")[0]
    await expect(page.get_by_role("status")).to_contain_text("The audience is created")

    first, second = _numbers()
    rows = f"phone,name,opted_in,city\n{first},Ana Lima,yes,Lisbon\n12345,Bad Number,yes,Porto\n"
    rows += f"{second},Bruno Reis,yes,Faro\n"
    await page.get_by_label("CSV file", exact=True).set_input_files(
        {"name": "regulars.csv", "mimeType": "text/csv", "buffer": rows.encode()}
    )
    await page.get_by_role("button", name="Import", exact=True).click()
    await expect(page.get_by_role("heading", name="Import of regulars.csv")).to_be_visible()
    await expect(page.get_by_role("status")).to_have_text("2 of 3 rows imported; 1 row rejected.")
    rejected = page.get_by_role("table", name=re.compile("^Rejected rows"))
    bad = rejected.get_by_role("row").filter(has_text="phone")
    await expect(bad.get_by_role("cell").nth(0)).to_have_text("3")  # the file's line
    await expect(bad.get_by_role("cell").nth(1)).to_have_text("2")  # the second data row
    contacts = page.get_by_role("table", name=re.compile("^Contacts by phone number"))
    await expect(contacts.get_by_role("row").filter(has_text=first)).to_contain_text("Opted in")
    await expect(page.locator("dl.card dd").nth(1)).to_have_text("2")  # opted in, of 2
    await no_serious_violations(page, axe)
    await screenshot(page, "audience-import")
    return audience_id


async def test_a_person_imports_an_audience_and_watches_its_broadcast_in_chromium(
    connected: Connected, console_url: str, browser: Browser, axe_script: Path
) -> None:
    name = f"Regulars {uuid.uuid4().hex[:6]}"
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = await context.new_page()
    await sign_in_with_the_key(page, console_url, connected.api_key)
    audience_id = await _create_and_import(page, console_url, name, axe_script)

    post_id = await _compose_broadcast(page, connected, name, audience_id)
    await page.get_by_role("link", name="Broadcasts", exact=True).first.click()
    await expect(page.get_by_role("heading", name="Broadcasts", level=1)).to_be_visible()
    card = page.locator(f"#bc-{post_id}")
    await expect(card.get_by_role("heading")).to_have_text(f"To {name}")
    # Sent while the page is open: the card polls itself, with no reload, while the broadcast
    # is sent and until WhatsApp's receipts (sent, delivered, read) have all come.
    await expect(card.locator("p.status")).to_have_text("Sent", timeout=120_000)
    await expect(card).to_contain_text("2 of 2 recipients handled (100%)")
    await expect(card.get_by_role("progressbar")).to_have_attribute("value", "2")
    for step, rate in (
        ("Sent", "100% of recipients"),
        ("Delivered", "100% of sent"),
        ("Read", "100% of delivered"),
        ("Failed", "0% of recipients"),
    ):
        row = card.get_by_role("row").filter(has=page.get_by_role("rowheader", name=step))
        await expect(row.get_by_role("cell")).to_have_text(
            ["0" if step == "Failed" else "2", rate], timeout=120_000
        )
    await expect(card).not_to_have_attribute("hx-get", re.compile("."))  # polling has stopped
    await no_serious_violations(page, axe_script)
    await screenshot(page, "broadcasts")
    paths = ("/audiences", "/broadcasts")
    await at_a_phones_width(browser, context, console_url, paths, axe_script)
    await context.close()
