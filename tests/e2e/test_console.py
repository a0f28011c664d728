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
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from tests.conftest import Connected
from tests.e2e.console_browser import (
    ZONE,
    accessible_and_shot,
    at_a_phones_width,
    demo_owner,
    fits_a_phone,
    no_serious_violations,
    phone_context,
    schedule_at_half_past_nine,
    screenshot,
    sign_in,
    sign_in_with_the_key,
)

pytestmark = pytest.mark.e2e


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
    await accessible_and_shot(page, axe, "account-analytics")
    await page.get_by_role("link", name="← Integrations").click()


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
    await no_serious_violations(page, axe_script)
    await screenshot(page, "sign-in")
    await sign_in(page, console_url, *demo_owner(connected))
    await no_serious_violations(page, axe_script)
    await screenshot(page, "integrations")

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
    await no_serious_violations(page, axe_script)
    await screenshot(page, "history")

    # Keyboard: the first Tab lands on the skip link, with a visible outline.
    await page.keyboard.press("Tab")
    focused = page.locator(":focus")
    await expect(focused).to_have_text("Skip to content")
    assert await focused.evaluate("e => getComputedStyle(e).outlineStyle") != "none"

    phone = await phone_context(browser, context)  # the same signed-in session
    small = await phone.new_page()
    for path in ("/integrations", "/history"):
        await small.goto(f"{console_url}{path}")
        await expect(small.get_by_role("link", name="History")).to_be_visible()
        await fits_a_phone(small, path)
        await no_serious_violations(small, axe_script)
        await screenshot(small, f"phone-{path.strip('/')}")
    await phone.close()

    await page.get_by_role("button", name="Sign out", exact=True).click()
    await expect(page).to_have_url(f"{console_url}/sign-in")
    await page.goto(f"{console_url}/history")
    await expect(page).to_have_url(f"{console_url}/sign-in")
    await context.close()


async def _visit(page: Page, url: str, heading: str, axe: Path) -> None:
    """Open a page, see its heading, run axe and save its screenshot (named by the heading)."""
    await page.goto(url)
    await expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    await accessible_and_shot(page, axe, heading.lower())


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
    await sign_in_with_the_key(page, console_url, connected.api_key)
    await page.get_by_role("link", name="Compose").click()
    await expect(page).to_have_url(f"{console_url}/compose")
    await no_serious_violations(page, axe_script)

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
    await accessible_and_shot(page, axe_script, "compose-error")

    await privacy.select_option("SELF_ONLY")
    await page.get_by_label("Media 1 URL").fill("https://cdn.example/stollen.mp4")
    await page.get_by_label("Media 1 kind").select_option("video")
    await page.get_by_role("button", name="Check").click()
    await expect(page.get_by_role("status")).to_contain_text("No problems found")
    await expect(page.get_by_label("TikTok preview")).to_contain_text("Who can watch: Only me.")
    await expect(page.get_by_label("Facebook preview")).to_contain_text(text)
    await accessible_and_shot(page, axe_script, "compose")

    post_id = await schedule_at_half_past_nine(page, tomorrow)
    card = page.locator(f"#post-{post_id}")
    await expect(page.get_by_role("status")).to_contain_text("The post is scheduled")
    await expect(card).to_contain_text(f"{tomorrow.isoformat()} 09:30")
    await expect(card).to_contain_text("TikTok · ")
    await expect(card).to_contain_text("Scheduled")
    await accessible_and_shot(page, axe_script, "calendar")

    paths = ("/compose", f"/calendar?day={tomorrow.isoformat()}", "/webhooks")
    await at_a_phones_width(browser, context, console_url, paths, axe_script)

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
    await sign_in(page, console_url, *demo_owner(connected))
    await page.get_by_role("link", name="Team").click()
    await expect(page.get_by_role("heading", name="Team", level=1)).to_be_visible()
    viewer = f"viewer-{uuid.uuid4().hex[:8]}@demo-bakery.example"
    await page.get_by_label("Email", exact=True).fill(viewer)
    await page.get_by_label("Role", exact=True).select_option("viewer")
    await page.get_by_role("button", name="Create an invitation link").click()
    link = await page.get_by_label("Invitation link").input_value()
    assert link.startswith(f"{console_url}/invitations/hi_"), link
    await no_serious_violations(page, axe_script)
    await screenshot(page, "team")
    await at_a_phones_width(browser, owner, console_url, ("/team",), axe_script)

    guest = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    joining = await guest.new_page()
    await joining.goto(link)
    await expect(joining.get_by_text(f"as viewer, as {viewer}")).to_be_visible()
    await no_serious_violations(joining, axe_script)
    await screenshot(joining, "invitation")
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
