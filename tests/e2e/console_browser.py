"""What the console's browser tests share (tests/e2e/test_console*.py; their fixtures are in
tests/e2e/conftest.py): where things are, an owner of the session's business made as `make up`
makes the demo's, signing in, axe-core checks, screenshots and the phone-width check. A plain
module, not a test file (tests/deploy/test_test_tiers.py looks for test_*.py only)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import httpx
from playwright.async_api import Browser, BrowserContext, Page, expect
from tests.conftest import Connected

from herald_localstack import demo
from herald_localstack.secrets import StackSecrets

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".run" / "test-reports" / "console"
CHROMIUM = Path("/usr/bin/chromium")
ZONE = demo.DEMO_ZONE  # the business's, not the console's (whose fallback is UTC)
PHONE_WIDTH = 390

OWNERS: dict[str, demo.Demo] = {}  # by the session's API key: one owner per business


def demo_owner(connected: Connected) -> tuple[str, str]:
    """An owner of the session's business made as `make up` makes the demo's
    (`demo.ensure_owner`), who gives the business its zone, Europe/Berlin, as the demo's owner
    does (`demo.ensure_zone`, when it has none): its email and password. Made once per business
    and shared by every console test of the session."""
    if connected.api_key not in OWNERS:
        admin = StackSecrets.load_or_create(connected.system.cfg.run_dir).admin_token
        auth = connected.system.url("auth-service")
        key_id = connected.api_key.split("_")[1]
        with httpx.Client(timeout=30) as http:
            listed = http.get(
                f"{auth}/v1/admin/businesses", headers={"Authorization": f"Bearer {admin}"}
            )
            assert listed.status_code == 200, listed.text
            business_id = next(
                b["business_id"]
                for b in listed.json()["businesses"]
                if any(k["key_id"] == key_id for k in b["api_keys"])
            )
            made = demo.Demo(business_id=business_id, api_key=connected.api_key)
            demo.ensure_owner(http, auth, admin, made, lambda _: None)
            demo.ensure_zone(http, auth, made, lambda _: None)
        OWNERS[connected.api_key] = made
    return OWNERS[connected.api_key].owner_email, OWNERS[connected.api_key].owner_password


async def no_serious_violations(page: Page, axe: Path) -> None:
    """axe-core over the whole page: no violation of impact serious or critical."""
    await page.add_script_tag(path=axe)
    found = await page.evaluate(
        """async () => (await axe.run()).violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target).join(", ")}`)"""
    )
    assert found == [], f"{page.url}: {found}"


async def screenshot(page: Page, name: str) -> None:
    """The whole page, saved as .run/test-reports/console/<name>.png (docs/console.md)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


async def accessible_and_shot(page: Page, axe: Path, name: str) -> None:
    """`no_serious_violations`, then `screenshot`."""
    await no_serious_violations(page, axe)
    await screenshot(page, name)


async def sign_in(page: Page, url: str, email: str, password: str) -> None:
    """A person's sign-in with email and password, from a page that needs it first."""
    await page.goto(f"{url}/integrations")
    await expect(page).to_have_url(f"{url}/sign-in")  # a page needs a sign-in first
    await page.get_by_label("Email", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(f"{url}/integrations")


async def sign_in_with_the_key(page: Page, url: str, api_key: str) -> None:
    """The API-key sign-in (for operators; folded away once people sign in with a password)."""
    await page.goto(f"{url}/sign-in")
    folded = page.get_by_text("Sign in with an API key instead")
    if await folded.count():
        await folded.click()
    await page.locator("#api_key").fill(api_key)
    await page.locator("#api_key").press("Enter")
    await expect(page).to_have_url(f"{url}/integrations")


async def schedule_at_half_past_nine(page: Page, day: date) -> str:
    """On Compose, its targets and text filled: Later, `day` at 09:30 in the business's zone,
    Schedule post; the calendar opens at the post. The post's id."""
    await page.get_by_label("Later", exact=True).check()
    await page.get_by_label(f"Date and time ({ZONE})").fill(f"{day.isoformat()}T09:30")
    await page.get_by_role("button", name="Schedule post").click()
    await expect(page).to_have_url(re.compile(r"/calendar\?view=day&day=.*#post-"))
    return page.url.rsplit("#post-", 1)[1]


async def fits_a_phone(page: Page, path: str) -> None:
    """The page is no wider than a phone. Its own width, not innerWidth: a phone widens its
    layout viewport to fit a page that overflows, and then innerWidth grows with it."""
    wide = await page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE_WIDTH, f"{path} is {wide} px wide at {PHONE_WIDTH} px"


async def phone_context(browser: Browser, signed_in: BrowserContext) -> BrowserContext:
    """A phone's context (390 px, touch) in the same signed-in session as `signed_in`."""
    return await browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": 844},
        is_mobile=True,
        has_touch=True,
        bypass_csp=True,  # axe is injected inline; the pages allow their own origin's scripts
        storage_state=await signed_in.storage_state(),
    )


async def at_a_phones_width(
    browser: Browser, signed_in: BrowserContext, url: str, paths: tuple[str, ...], axe: Path
) -> None:
    """Each page in the same session at a phone's width: nothing scrolls sideways, axe passes,
    and its screenshot is saved as phone-<path>."""
    phone = await phone_context(browser, signed_in)
    small = await phone.new_page()
    for path in paths:
        await small.goto(f"{url}{path}")
        await fits_a_phone(small, path)
        await accessible_and_shot(small, axe, f"phone-{path.strip('/').split('?')[0]}")
    await phone.close()
