"""The console in a real browser against the whole running system (issue 22, first slice).

Debian's Chromium (`/usr/bin/chromium`, the `chromium` package; `.ci/run` installs it) driven by
Playwright for Python (pinned in the root pyproject; Playwright's own browser download cannot
reach its host here, ADR 0022). The console runs as its own process (`python -m console`) on the
session's system (tests/conftest.py `connected`: every service a process, the sandbox's accounts
connected through OAuth) and reads only the public APIs with the business's API key. What a
person sees: sign in, every connected account Active on Integrations, a post published to
Facebook in History with its permalink and its publish time in the business's zone, both pages at
a phone's width without sideways scrolling, keyboard focus visible, sign out; and axe-core
(pinned by tests/e2e/axe/package-lock.json, installed by scripts/ensure-axe-core) finds no
serious or critical accessibility violation on any page, at desktop or phone width. Each page's
screenshot is saved under .run/test-reports/console/ (docs/console.md shows some).
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from tests.conftest import Connected

from herald_localstack import demo
from herald_localstack.secrets import StackSecrets

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".run" / "test-reports" / "console"
CHROMIUM = Path("/usr/bin/chromium")
ZONE = demo.DEMO_ZONE  # the business's, not the console's (whose fallback is UTC)
PHONE_WIDTH = 390


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
    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: the console's browser test drives Debian's Chromium. "
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


async def _no_serious_violations(page: Page, axe: Path) -> None:
    """axe-core over the whole page: no violation of impact serious or critical."""
    await page.add_script_tag(path=axe)
    found = await page.evaluate(
        """async () => (await axe.run()).violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => `${v.id} (${v.impact}): ${v.nodes.map(n => n.target).join(", ")}`)"""
    )
    assert found == [], f"{page.url}: {found}"


async def _screenshot(page: Page, name: str) -> None:
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(chromium))
        try:
            yield launched
        finally:
            await launched.close()


def _published_post(connected: Connected, text: str) -> dict[str, object]:
    body: dict[str, object] = {
        "content": {"text": text},
        "targets": [{"integration_id": connected.integrations["facebook"], "platform": "facebook"}],
    }
    post_id = connected.post(body, idempotency_key=f"console-{uuid.uuid4().hex}")
    deadline = time.monotonic() + 120
    while True:
        post = connected.status(post_id)
        if post["status"] in ("published", "failed", "partially_published", "cancelled"):
            assert post["status"] == "published", post
            return post
        assert time.monotonic() < deadline, f"post {post_id} still {post['status']}"
        time.sleep(0.5)


OWNERS: dict[str, demo.Demo] = {}  # by the session's API key: one owner per business


def _demo_owner(connected: Connected) -> tuple[str, str]:
    """An owner of the session's business made as `make up` makes the demo's
    (`demo.ensure_owner`), who gives the business its zone, Europe/Berlin, as the demo's owner
    does (`demo.ensure_zone`): its email and password."""
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


async def _sign_in(page: Page, url: str, email: str, password: str) -> None:
    await page.goto(f"{url}/integrations")
    await expect(page).to_have_url(f"{url}/sign-in")  # a page needs a sign-in first
    await page.get_by_label("Email", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(f"{url}/integrations")


async def _connect_facebook_again_and_refresh(page: Page, url: str, axe: Path) -> None:
    """Connect Facebook again through the real flow (auth-service's start link, the sandbox's
    consent page, the callback) back to the Integrations page, which says what happened; then
    Refresh now on the Facebook card, and its account's analytics page."""
    await page.get_by_role("link", name="Connect Facebook", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Facebook account")
    await page.get_by_role("button", name="Approve").click()
    await expect(page).to_have_url(re.compile(re.escape(f"{url}/integrations?status=")))
    await expect(page.get_by_role("status")).to_contain_text("Facebook connected: 1 account.")
    accounts = page.get_by_role("list", name="Connected accounts").get_by_role("listitem")
    facebook = accounts.filter(has=page.get_by_role("heading", name="Facebook"))
    await facebook.get_by_role("button", name=re.compile("^Refresh now")).click()
    await expect(page.get_by_role("status")).to_contain_text("the account's token is renewed")
    await expect(facebook).to_contain_text("Active")
    await facebook.get_by_role("link", name=re.compile("^Analytics")).click()
    await expect(page.get_by_role("heading", name="Account analytics", level=1)).to_be_visible()
    await _accessible_and_shot(page, axe, "account-analytics")
    await page.get_by_role("link", name="← Integrations").click()


async def _fits_the_width(page: Page) -> bool:
    return bool(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


async def test_a_person_reads_integrations_and_history_in_chromium(
    connected: Connected, console_url: str, browser: Browser, axe_script: Path
) -> None:
    text = f"Console check {uuid.uuid4().hex[:8]}: rye loaves at noon"
    post = _published_post(connected, text)
    target = post["targets"][0]  # type: ignore[index]
    published = datetime.fromisoformat(target["published_at"]).astimezone(ZoneInfo(ZONE))

    # bypass_csp: the pages allow scripts from their own origin only, and axe is injected inline.
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = await context.new_page()
    await page.goto(f"{console_url}/sign-in")
    await _no_serious_violations(page, axe_script)
    await _screenshot(page, "sign-in")
    await _sign_in(page, console_url, *_demo_owner(connected))
    await _no_serious_violations(page, axe_script)
    await _screenshot(page, "integrations")

    await expect(page.get_by_role("heading", name="Integrations", level=1)).to_be_visible()
    accounts = page.get_by_role("list", name="Connected accounts").get_by_role("listitem")
    for platform in ("Facebook", "Instagram", "WhatsApp", "TikTok"):
        card = accounts.filter(has=page.get_by_role("heading", name=platform))
        await expect(card.first).to_contain_text("Active")
    await expect(page.get_by_text(f"Times are shown in {ZONE}.")).to_be_visible()
    await _connect_facebook_again_and_refresh(page, console_url, axe_script)

    await page.get_by_role("link", name="History").click()
    await expect(page).to_have_url(f"{console_url}/history")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=text))
    await expect(card).to_contain_text("Published")
    await expect(card).to_contain_text("Facebook · ")
    await expect(card).to_contain_text(f"Published {published:%Y-%m-%d %H:%M %Z}")
    link = card.get_by_role("link", name="View on Facebook")
    await expect(link).to_have_attribute("href", str(target["permalink"]))
    await _no_serious_violations(page, axe_script)
    await _screenshot(page, "history")

    # Keyboard: the first Tab lands on the skip link, with a visible outline.
    await page.keyboard.press("Tab")
    focused = page.locator(":focus")
    await expect(focused).to_have_text("Skip to content")
    assert await focused.evaluate("e => getComputedStyle(e).outlineStyle") != "none"

    phone = await browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": 844},
        is_mobile=True,
        has_touch=True,
        bypass_csp=True,
        storage_state=await context.storage_state(),  # the same signed-in session
    )
    small = await phone.new_page()
    for path in ("/integrations", "/history"):
        await small.goto(f"{console_url}{path}")
        await expect(small.get_by_role("link", name="History")).to_be_visible()
        assert await _fits_the_width(small), f"{path} scrolls sideways at {PHONE_WIDTH} px"
        await _no_serious_violations(small, axe_script)
        await _screenshot(small, f"phone-{path.strip('/')}")
    await phone.close()

    await page.get_by_role("button", name="Sign out", exact=True).click()
    await expect(page).to_have_url(f"{console_url}/sign-in")
    await page.goto(f"{console_url}/history")
    await expect(page).to_have_url(f"{console_url}/sign-in")
    await context.close()


async def _accessible_and_shot(page: Page, axe: Path, name: str) -> None:
    await _no_serious_violations(page, axe)
    await _screenshot(page, name)


async def _visit(page: Page, url: str, heading: str, axe: Path) -> None:
    """Open a page, see its heading, run axe and save its screenshot (named by the heading)."""
    await page.goto(url)
    await expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    await _accessible_and_shot(page, axe, heading.lower())


async def _sign_in_with_the_key(page: Page, url: str, api_key: str) -> None:
    """The API-key sign-in (for operators; folded away once people sign in with a password)."""
    await page.goto(f"{url}/sign-in")
    folded = page.get_by_text("Sign in with an API key instead")
    if await folded.count():
        await folded.click()
    await page.locator("#api_key").fill(api_key)
    await page.locator("#api_key").press("Enter")
    await expect(page).to_have_url(f"{url}/integrations")


async def _at_a_phones_width(
    browser: Browser, signed_in: BrowserContext, url: str, paths: tuple[str, ...], axe: Path
) -> None:
    """Each page in the same session at a phone's width: nothing scrolls sideways, axe passes."""
    phone = await browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": 844},
        is_mobile=True,
        has_touch=True,
        bypass_csp=True,
        storage_state=await signed_in.storage_state(),
    )
    small = await phone.new_page()
    for path in paths:
        await small.goto(f"{url}{path}")
        assert await _fits_the_width(small), f"{path} scrolls sideways at {PHONE_WIDTH} px"
        await _no_serious_violations(small, axe)
        await _screenshot(small, f"phone-{path.strip('/').split('?')[0]}")
    await phone.close()


async def test_a_person_composes_fixes_schedules_and_cancels_in_chromium(
    connected: Connected, console_url: str, browser: Browser, axe_script: Path
) -> None:
    """Compose with a validation error shown at its field, fix it, check the preview, schedule
    for tomorrow in the business's zone, find the post on the calendar, cancel it there (so it
    never publishes); Compose, Calendar and Webhooks pass axe at desktop and phone width."""
    text = f"Console compose {uuid.uuid4().hex[:8]}: stollen on Saturday"
    facebook, tiktok = connected.integrations["facebook"], connected.integrations["tiktok"]
    tomorrow = datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=1)

    context = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = await context.new_page()
    await _sign_in_with_the_key(page, console_url, connected.api_key)
    await page.get_by_role("link", name="Compose").click()
    await expect(page).to_have_url(f"{console_url}/compose")
    await _no_serious_violations(page, axe_script)

    await page.locator(f'input[name="target"][value="{facebook}"]').check()
    await page.locator(f'input[name="target"][value="{tiktok}"]').check()
    await page.get_by_label("Text", exact=True).fill(text)
    # The live check (htmx, as the person types) names the problems before any button.
    await expect(page.locator("#live-check")).to_contain_text("needs a privacy level")
    await page.get_by_role("button", name="Schedule post").click()
    # TikTok needs a privacy level and a video or photos: said at the fields, nothing submitted.
    privacy = page.locator(f"#o-{tiktok}-privacy_level")
    await expect(privacy).to_have_attribute("aria-invalid", "true")
    await expect(page.locator(f"#errs-o-{tiktok}-privacy_level")).to_contain_text("privacy level")
    await expect(page.locator("#errs-media")).to_contain_text("TikTok")
    await expect(page.get_by_role("alert")).to_contain_text("to fix before this can be scheduled")
    await _accessible_and_shot(page, axe_script, "compose-error")

    await privacy.select_option("SELF_ONLY")
    await page.get_by_label("Media 1 URL").fill("https://cdn.example/stollen.mp4")
    await page.get_by_label("Media 1 kind").select_option("video")
    await page.get_by_role("button", name="Check").click()
    await expect(page.get_by_role("status")).to_contain_text("No problems found")
    await expect(page.get_by_label("TikTok preview")).to_contain_text("Who can watch: Only me.")
    await expect(page.get_by_label("Facebook preview")).to_contain_text(text)
    await _accessible_and_shot(page, axe_script, "compose")

    await page.get_by_label("Later", exact=True).check()
    await page.get_by_label(f"Date and time ({ZONE})").fill(f"{tomorrow.isoformat()}T09:30")
    await page.get_by_role("button", name="Schedule post").click()
    await expect(page).to_have_url(re.compile(r"/calendar\?view=day&day=.*#post-"))
    post_id = page.url.rsplit("#post-", 1)[1]
    card = page.locator(f"#post-{post_id}")
    await expect(page.get_by_role("status")).to_contain_text("The post is scheduled")
    await expect(card).to_contain_text(f"{tomorrow.isoformat()} 09:30")
    await expect(card).to_contain_text("TikTok · ")
    await expect(card).to_contain_text("Scheduled")
    await _accessible_and_shot(page, axe_script, "calendar")

    paths = ("/compose", f"/calendar?day={tomorrow.isoformat()}", "/webhooks")
    await _at_a_phones_width(browser, context, console_url, paths, axe_script)

    await card.get_by_role("button", name="Cancel").click()
    await expect(page.get_by_role("status")).to_contain_text("Cancelled.")
    await expect(page.locator(f"#post-{post_id}")).to_contain_text("Cancelled")
    assert connected.status(post_id)["status"] == "cancelled"
    await _visit(page, f"{console_url}/posts/{post_id}/analytics", "Analytics", axe_script)
    await expect(page.get_by_text("No figures yet")).to_have_count(2)  # never published
    await _visit(page, f"{console_url}/webhooks", "Webhooks", axe_script)
    await context.close()


async def test_an_owner_invites_a_viewer_who_cannot_write_in_chromium(
    connected: Connected, console_url: str, browser: Browser, axe_script: Path
) -> None:
    """People (ADR 0024): the demo owner signs in with email and password and invites a viewer
    on the Team page; the viewer joins through the link (setting a name and a password), sees no
    write action, and the scheduler refuses the viewer's session a post with 403 while reading
    is allowed; the owner signs out everywhere. axe passes on Team (desktop and phone width) and
    the invitation page."""
    owner = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = await owner.new_page()
    await _sign_in(page, console_url, *_demo_owner(connected))
    await page.get_by_role("link", name="Team").click()
    await expect(page.get_by_role("heading", name="Team", level=1)).to_be_visible()
    viewer = f"viewer-{uuid.uuid4().hex[:8]}@demo-bakery.example"
    await page.get_by_label("Email", exact=True).fill(viewer)
    await page.get_by_label("Role", exact=True).select_option("viewer")
    await page.get_by_role("button", name="Create an invitation link").click()
    link = await page.get_by_label("Invitation link").input_value()
    assert link.startswith(f"{console_url}/invitations/hi_"), link
    await _no_serious_violations(page, axe_script)
    await _screenshot(page, "team")
    await _at_a_phones_width(browser, owner, console_url, ("/team",), axe_script)

    guest = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    joining = await guest.new_page()
    await joining.goto(link)
    await expect(joining.get_by_text(f"as viewer, as {viewer}")).to_be_visible()
    await _no_serious_violations(joining, axe_script)
    await _screenshot(joining, "invitation")
    password = f"viewer password {uuid.uuid4().hex[:6]}"
    await joining.get_by_label("Your name").fill("Vic Viewer")
    await joining.get_by_label("Choose a password").fill(password)
    await joining.get_by_role("button", name="Join").click()
    await expect(joining).to_have_url(f"{console_url}/integrations")
    await expect(joining.get_by_text("Vic Viewer · viewer")).to_be_visible()
    await expect(joining.get_by_role("link", name="Compose")).to_have_count(0)
    await expect(joining.get_by_role("link", name="Team")).to_have_count(0)
    buttons = await joining.get_by_role("button").all_inner_texts()
    assert sorted(buttons) == ["Sign out", "Sign out everywhere"], buttons
    await guest.close()

    # The APIs enforce the role, whatever a page shows: reading yes, writing 403.
    auth, scheduler = connected.system.url("auth-service"), connected.system.url("scheduler")
    async with httpx.AsyncClient(timeout=30) as http:
        signed = await http.post(
            f"{auth}/v1/sessions", json={"email": viewer, "password": password}
        )
        assert signed.status_code == 201, signed.text
        as_viewer = {"Authorization": f"Bearer {signed.json()['token']}"}
        assert (await http.get(f"{scheduler}/v1/posts", headers=as_viewer)).status_code == 200
        body = {
            "content": {"text": "a viewer may not post"},
            "targets": [
                {"integration_id": connected.integrations["facebook"], "platform": "facebook"}
            ],
        }
        refused = await http.post(
            f"{scheduler}/v1/posts",
            json=body,
            headers={**as_viewer, "Idempotency-Key": f"viewer-{uuid.uuid4().hex}"},
        )
        assert refused.status_code == 403, refused.text
        await http.delete(f"{auth}/v1/session", headers=as_viewer)

    await page.get_by_role("button", name="Sign out everywhere").click()
    await expect(page).to_have_url(f"{console_url}/sign-in")
    await page.goto(f"{console_url}/team")
    await expect(page).to_have_url(f"{console_url}/sign-in")
    await owner.close()
