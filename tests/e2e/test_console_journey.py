"""The whole journey of issue 22 in one browser session, against the running system.

A person signs in with email and password, connects Facebook through the sandbox's consent
page, composes a post to Facebook and Instagram that the live check refuses (Instagram needs a
photo or a video) and fixes it, schedules it now, and watches the calendar (the page polled,
with a bounded wait) until Facebook's target is published and Instagram's has failed: the
sandbox refuses the Instagram container once (a fault rule: Graph code 100, subcode 2207023, a
permanent error), so the failure is real. The person reads the post's analytics, retries the
failed target from the calendar and sees it published as a new attempt (the post's Timeline
shows the failure, then round 2 asked for, sent and published), finds the post published in
History, composes a post for tomorrow and reschedules it (a past time refused at the field
first), then signs out, after which the session no longer opens a page. axe-core finds no
serious or critical violation on any console page visited, and each is saved as a screenshot
(`journey-*`) under .run/test-reports/console/. The browser fixtures are tests/e2e/conftest.py's,
the shared helpers tests/e2e/console_browser.py's.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, expect
from tests.conftest import Connected
from tests.e2e.console_browser import (
    ZONE,
    accessible_and_shot,
    demo_owner,
    schedule_at_half_past_nine,
    sign_in,
)

pytestmark = pytest.mark.e2e

WAIT_S = 90  # a post settles in seconds; the bound keeps a stuck one from holding CI
# Instagram refuses the container once, as it refuses a media type it cannot take.
REFUSED_MEDIA = {
    "status": 400,
    "code": 100,
    "subcode": 2207023,
    "message": "The media type is not supported (journey test).",
}


async def _checked(page: Page, axe: Path, name: str) -> None:
    await accessible_and_shot(page, axe, f"journey-{name}")


async def _until(page: Page, card: Locator, *texts: str) -> None:
    """Reload the page until the post's card says every one of `texts` (bounded)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        said = await card.inner_text() if await card.count() else ""
        if all(text in said for text in texts):
            return
        assert time.monotonic() < deadline, f"after {WAIT_S} s the card says: {said}"
        await page.wait_for_timeout(1000)
        await page.reload()


def _fault(connected: Connected) -> int:
    rule = {
        "platform": "instagram",
        "endpoint": "media",
        "method": "POST",
        "action": "error",
        "error": REFUSED_MEDIA,
        "count": 1,
    }
    url = f"{connected.system.url('platform-sandbox')}/_sandbox/faults"
    answer = httpx.post(url, json=rule, timeout=30)
    assert answer.status_code == 201, answer.text
    fault_id: int = answer.json()["id"]
    return fault_id


def _unfault(connected: Connected, fault_id: int) -> None:
    """Remove the rule if it has not fired (a fired one is gone already)."""
    url = f"{connected.system.url('platform-sandbox')}/_sandbox/faults/{fault_id}"
    assert httpx.delete(url, timeout=30).status_code in (200, 204, 404)


def _history(connected: Connected, post_id: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        f"{connected.system.url('scheduler')}/v1/posts/{post_id}/history",
        headers={"Authorization": f"Bearer {connected.api_key}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()["entries"]
    return entries


async def _connect_facebook(page: Page) -> None:
    await page.get_by_role("link", name="Connect Facebook", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Facebook account")
    await page.get_by_role("button", name="Approve").click()
    await expect(page).to_have_url(re.compile(r"/integrations\?status="))
    await expect(page.get_by_role("status")).to_contain_text("Facebook connected: 1 account.")


async def _compose_fix_and_schedule(page: Page, connected: Connected, text: str, axe: Path) -> str:
    """A post to Facebook and Instagram without media: refused at the media field; with a
    photo it is checked, then scheduled now. Its post id, from the calendar it lands on."""
    facebook, instagram = connected.integrations["facebook"], connected.integrations["instagram"]
    await page.get_by_role("link", name="Compose").click()
    await page.locator(f'input[name="target"][value="{facebook}"]').check()
    await page.locator(f'input[name="target"][value="{instagram}"]').check()
    await page.get_by_label("Text", exact=True).fill(text)
    await page.get_by_role("button", name="Schedule post").click()
    await expect(page.locator("#errs-media")).to_contain_text("Instagram")
    await expect(page.get_by_role("alert")).to_contain_text("to fix before this can be scheduled")
    await _checked(page, axe, "compose-error")

    sandbox = connected.system.url("platform-sandbox")
    photo = f"{sandbox}/_sandbox/media/journey-{uuid.uuid4().hex[:6]}.jpg?bytes=30000"
    await page.get_by_label("Media 1 URL").fill(f"{photo}&width=1080&height=1080")
    await page.get_by_label("Media 1 kind").select_option("image")
    await page.get_by_role("button", name="Check").click()
    await expect(page.get_by_role("status")).to_contain_text("No problems found")
    await expect(page.get_by_label("Instagram preview")).to_contain_text(text)
    await _checked(page, axe, "compose")
    await page.get_by_label("Now", exact=True).check()
    await page.get_by_role("button", name="Schedule post").click()
    await expect(page).to_have_url(re.compile(r"/calendar\?view=day&day=.*#post-"))
    await expect(page.get_by_role("status")).to_contain_text("The post is scheduled")
    return page.url.rsplit("#post-", 1)[1]


async def _reschedule_a_later_post(
    page: Page, url: str, facebook: str, text: str, axe: Path
) -> None:
    """Compose a post for tomorrow 09:30, then move it to the day after at 10:15 from the
    calendar (a past time first, refused at the field); cancelled at the end, so it never
    publishes after the test."""
    zone = ZoneInfo(ZONE)
    tomorrow = datetime.now(zone).date() + timedelta(days=1)
    later = tomorrow + timedelta(days=1)
    await page.goto(f"{url}/compose")
    await page.locator(f'input[name="target"][value="{facebook}"]').check()
    await page.get_by_label("Text", exact=True).fill(text)
    post_id = await schedule_at_half_past_nine(page, tomorrow)
    card = page.locator(f"#post-{post_id}")
    field = card.get_by_label(f"New time ({ZONE})")
    await expect(field).to_have_value(f"{tomorrow.isoformat()}T09:30")

    yesterday = tomorrow - timedelta(days=2)
    await field.fill(f"{yesterday.isoformat()}T09:30")
    await card.get_by_role("button", name=re.compile("^Reschedule")).click()
    card = page.locator(f"#post-{post_id}")
    field = card.get_by_label(f"New time ({ZONE})")
    await expect(field).to_have_attribute("aria-invalid", "true")
    await expect(card.locator(f"#move-err-{post_id}")).to_contain_text("This time has passed")
    await _checked(page, axe, "reschedule-error")

    await field.fill(f"{later.isoformat()}T10:15")
    await card.get_by_role("button", name=re.compile("^Reschedule")).click()
    await expect(page).to_have_url(re.compile(rf"day={later.isoformat()}.*#post-{post_id}$"))
    await expect(page.get_by_role("status")).to_contain_text("The post is moved")
    card = page.locator(f"#post-{post_id}")
    await expect(card).to_contain_text(f"{later.isoformat()} 10:15")
    await expect(card).to_contain_text("Scheduled")
    await _checked(page, axe, "rescheduled")
    await card.get_by_role("button", name=re.compile("^Cancel")).click()
    await expect(page.locator(f"#post-{post_id}")).to_contain_text("Cancelled")


async def _published_then_failed(page: Page, connected: Connected, post_id: str, axe: Path) -> None:
    """The calendar, reloaded until Facebook's target is published and Instagram's failed
    (with the platform's error and what to do); then the post's analytics."""
    card = page.locator(f"#post-{post_id}")
    await _until(page, card, "Facebook · ", "Published", "Instagram · ", "Failed")
    await expect(card).to_contain_text("Error 100")
    await expect(card).to_contain_text("What to do:")
    await expect(card.get_by_role("link", name="View on Facebook")).to_be_visible()
    await _checked(page, axe, "calendar-failed")
    await card.get_by_role("link", name=re.compile("^Analytics")).click()
    await expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_visible()
    await expect(page.get_by_role("list", name="Targets")).to_contain_text("Published")
    await _checked(page, axe, "analytics")
    await page.go_back()


async def _retry(page: Page, connected: Connected, post_id: str, axe: Path) -> None:
    """*Retry failed targets*: Instagram's target is published as a new attempt (a second
    dispatch epoch in the scheduler's history, after the retry it records), which the post's
    Timeline page shows as round 2 after the failure."""
    card = page.locator(f"#post-{post_id}")
    await card.get_by_role("button", name=re.compile("^Retry failed targets")).click()
    await expect(page.get_by_role("status")).to_contain_text("Failed targets are being retried")
    card = page.locator(f"#post-{post_id}")
    await _until(page, card, "View on Instagram")
    await expect(card).not_to_contain_text("Error 100")
    await expect(card.locator("p.meta").first).to_contain_text("Published")
    await _checked(page, axe, "calendar-retried")
    history = _history(connected, post_id)
    retries = [e for e in history if e["kind"] == "post.retry_requested"]
    assert len(retries) == 1, history  # Instagram's target alone
    assert retries[0]["detail"]["epoch"] == 2
    assert retries[0]["detail"]["previous_error"]["code"], retries[0]
    kinds = [e["kind"] for e in history if e["target_id"] == retries[0]["target_id"]]
    assert kinds.index("post.published") > kinds.index("post.retry_requested"), kinds
    # The post's timeline shows the new attempt: the failure, then round 2 asked for, sent and
    # published.
    await card.get_by_role("link", name=re.compile("^Timeline")).click()
    await expect(page.get_by_role("heading", name="Timeline", level=1)).to_be_visible()
    steps = page.get_by_role("list", name="What happened, oldest first").get_by_role("listitem")
    said = await steps.all_inner_texts()
    failed = next(i for i, s in enumerate(said) if "Instagram: Failed" in s)
    asked = next(i for i, s in enumerate(said) if "Instagram: Retry asked for (round 2)" in s)
    sent = next(i for i, s in enumerate(said) if "Instagram: Sent to the publisher (round 2)" in s)
    published = [i for i, s in enumerate(said) if "Instagram: Published" in s]
    assert failed < asked < sent < published[-1], said
    assert "Error 100" in said[failed], said
    await _checked(page, axe, "timeline")
    await page.go_back()


async def _sign_out_for_good(page: Page, browser: Browser, url: str) -> None:
    """Sign out; the session's cookie, replayed, opens nothing: it ended in auth-service. The
    cookie still opens at the console (sealed there, not stored, ADR 0024), so the first page
    finds the APIs refusing it, says the session ended and drops it; the next is the sign-in."""
    signed_in = await page.context.storage_state()
    await page.get_by_role("button", name="Sign out", exact=True).click()
    await expect(page).to_have_url(f"{url}/sign-in")
    replay = await browser.new_context(storage_state=signed_in)
    again = await replay.new_page()
    await again.goto(f"{url}/calendar")
    await expect(again.get_by_text("Your session has ended")).to_be_visible()
    await again.goto(f"{url}/calendar")
    await expect(again).to_have_url(f"{url}/sign-in")
    await replay.close()


async def test_a_person_walks_the_whole_journey_in_chromium(
    connected: Connected,
    console_url: str,
    browser: Browser,
    axe_script: Path,
) -> None:
    url, axe = console_url, axe_script
    run = uuid.uuid4().hex[:8]
    text = f"Journey {run}: cinnamon buns are out"
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = await context.new_page()
    await page.goto(f"{url}/sign-in")
    await _checked(page, axe, "sign-in")
    await sign_in(page, url, *demo_owner(connected))
    await _checked(page, axe, "integrations")
    await _connect_facebook(page)
    await _checked(page, axe, "connected")

    fault = _fault(connected)
    try:
        post_id = await _compose_fix_and_schedule(page, connected, text, axe)
        await _published_then_failed(page, connected, post_id, axe)
    finally:
        _unfault(connected, fault)
    await _retry(page, connected, post_id, axe)

    await page.get_by_role("link", name="History").click()
    entry = page.get_by_role("listitem").filter(has=page.get_by_role("heading", name=text))
    await expect(entry).to_contain_text("View on Instagram")
    await _checked(page, axe, "history")

    later = f"Journey {run}: stollen tomorrow"
    await _reschedule_a_later_post(page, url, connected.integrations["facebook"], later, axe)
    await _sign_out_for_good(page, browser, url)
    await context.close()
