"""Recurring campaigns and the Overview in a real browser against the whole running system
(issue 22): Debian's Chromium driven by Playwright for Python, on the session's system
(tests/conftest.py `connected`: every service a process, the sandbox's accounts connected; the
console's fallback zone UTC, the business's own Europe/Berlin, set by its owner as `make up` sets
the demo's), as tests/e2e/test_console.py does.

The demo owner signs in, composes a post "As a recurring campaign" with one problem (no name),
sees it at its field, fixes it, sees the next occurrences in the business's zone and creates the
campaign through the scheduler's campaign route; the Campaigns page shows it; a campaign pass
(`python -m scheduler process-campaigns --once`, what the scheduler's loop runs every five
minutes) creates its first posts, which its link finds on the calendar, filtered by the campaign;
the Overview opens for 28 and 7 days; the campaign is ended (its posts cancelled, so nothing is
published later). axe-core finds no serious or critical violation on any of these pages, at
desktop and phone width; screenshots go to .run/test-reports/console/ (docs/console.md shows
some).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, Page, expect
from tests.conftest import Connected
from tests.e2e.console_browser import (
    SCREENSHOTS,
    ZONE,
    accessible_and_shot,
    at_a_phones_width,
    demo_owner,
)

from herald_localstack import services

pytestmark = pytest.mark.e2e

TERMINAL = frozenset({"published", "failed", "partially_published", "cancelled"})


def _campaign_pass(connected: Connected) -> dict[str, object]:
    """One campaign pass with the scheduler's own settings, as an operator runs it."""
    scheduler = next(s for s in services.SERVICES if s.name == "scheduler")
    env = services.environment(connected.system.cfg, scheduler)
    env |= connected.extra_env.get("scheduler", {})
    ran = subprocess.run(
        [sys.executable, "-m", "scheduler", "process-campaigns", "--once"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    report: dict[str, object] = json.loads(ran.stdout.strip().splitlines()[-1])
    return report


def _published_with_figures(connected: Connected, run: str) -> str:
    """A post published to Facebook and Instagram with its first figures read: the sandbox's
    clock moved past an hour after publishing, the publishers' insights jobs (every 5 s here,
    tests/conftest.py) take the 1 h snapshots, so the Overview has something to add up."""
    media = f"{connected.system.url('platform-sandbox')}/_sandbox/media/{run}"
    image = {"kind": "image", "url": f"{media}.jpg?bytes=30000&width=1080&height=1080",
             "mime_type": "image/jpeg"}  # fmt: skip
    body: dict[str, object] = {
        "content": {"text": f"Overview check {run}: the week's rye", "media": [image]},
        "targets": [
            {"integration_id": connected.integrations["facebook"], "platform": "facebook"},
            {
                "integration_id": connected.integrations["instagram"],
                "platform": "instagram",
                "options": {"platform": "instagram", "kind": "feed"},
            },
        ],
    }
    start = connected.sandbox("/_sandbox/clock")["offset_s"]
    post_id = connected.post(body, idempotency_key=f"console-overview-{run}")
    _wait(lambda: connected.status(post_id)["status"] in TERMINAL, 180, "publishing")
    assert connected.status(post_id)["status"] == "published", connected.status(post_id)
    moved = httpx.post(
        f"{connected.system.url('platform-sandbox')}/_sandbox/clock/advance",
        json={"seconds": start + 3_660 - connected.sandbox("/_sandbox/clock")["offset_s"]},
        timeout=30,
    )
    assert moved.status_code == 200, moved.text

    def snapshots() -> bool:
        answer = httpx.get(
            f"{connected.system.url('scheduler')}/v1/posts/{post_id}/analytics",
            headers={"Authorization": f"Bearer {connected.api_key}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return all(t["history"] for t in answer.json()["targets"])

    _wait(snapshots, 180, "the first figures")
    return post_id


def _wait(check: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:g} s"
        time.sleep(1)


async def _compose_the_campaign(page: Page, connected: Connected, text: str, axe: Path) -> str:
    """Compose, one problem at its field, fixed, previewed, created: the campaign's id."""
    first = datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=1)
    await page.get_by_role("link", name="Compose").click()
    await page.locator(
        f'input[name="target"][value="{connected.integrations["facebook"]}"]'
    ).check()
    await page.get_by_label("Text", exact=True).fill(text)
    await page.get_by_label("As a recurring campaign (below)").check()
    await page.get_by_label("Repeats").select_option("DAILY")
    await page.get_by_label(f"Time of day ({ZONE})").fill("09:30")
    await page.get_by_label("First day", exact=True).fill(first.isoformat())
    await page.get_by_label("After a number of times").check()
    await page.get_by_label("Number of times", exact=True).fill("3")
    # The live check names the missing name before any button.
    await expect(page.locator("#errs-campaign_name")).to_contain_text("Give the campaign a name")
    await page.get_by_role("button", name="Create campaign").click()
    name = page.get_by_label("Campaign name", exact=True)
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_role("alert")).to_contain_text("1 problem to fix")
    await expect(page.get_by_role("alert")).to_contain_text("Give the campaign a name")
    await accessible_and_shot(page, axe, "compose-campaign-error")

    await name.fill(f"Morning loaves {text[-8:]}")
    await page.get_by_role("button", name="Check").click()
    await expect(page.get_by_role("status").first).to_contain_text("No problems found")
    occurrences = page.get_by_role("list", name="Next occurrences").get_by_role("listitem")
    await expect(occurrences).to_have_count(3)  # three times, from tomorrow
    await expect(occurrences.first).to_have_text(re.compile(rf"{first:%Y-%m-%d} 09:30 CES?T$"))
    await accessible_and_shot(page, axe, "compose-campaign")
    await page.locator("#recurrence").screenshot(path=SCREENSHOTS / "compose-recurrence.png")

    await page.get_by_role("button", name="Create campaign").click()
    await expect(page).to_have_url(re.compile(r"/campaigns\?done=created#campaign-c_\w+$"))
    return page.url.rsplit("#campaign-", 1)[1]


async def _overview(page: Page, url: str, published: str, axe: Path) -> None:
    """The Overview over 28 days adds up the post published with figures (and any the session's
    other console tests published in the same business), then over 7."""
    await page.get_by_role("link", name="Overview").click()
    await expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    await expect(page.get_by_role("heading", name="Accounts needing attention")).to_be_visible()
    await expect(page.get_by_role("heading", name="Published, by platform")).to_be_visible()
    table = page.get_by_role("table", name=re.compile("by platform"))
    await expect(table.get_by_role("row", name=re.compile(r"^Facebook [1-9]\d* "))).to_be_visible()
    await expect(table.get_by_role("row", name=re.compile(r"^Instagram [1-9]\d* "))).to_be_visible()
    await expect(
        page.get_by_role("img", name=re.compile(r"Facebook [1-9]\d*, Instagram [1-9]\d*"))
    ).to_be_visible()
    top = page.get_by_role("link", name=re.compile(f"of post {published}$")).first
    await expect(top).to_be_visible()
    await accessible_and_shot(page, axe, "overview")
    await page.get_by_role("link", name="7 days").click()
    await expect(page).to_have_url(f"{url}/overview?days=7")
    await expect(page.locator('strong[aria-current="page"]')).to_have_text("7 days")


async def test_a_person_composes_a_recurring_campaign_and_reads_the_overview_in_chromium(
    connected: Connected, console_url: str, browser: Browser, axe_script: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    text = f"Campaign check {run}"
    published = _published_with_figures(connected, run)
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = await context.new_page()
    email, password = demo_owner(connected)
    await page.goto(f"{console_url}/sign-in")
    await page.get_by_label("Email", exact=True).fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page).to_have_url(f"{console_url}/integrations")

    campaign_id = await _compose_the_campaign(page, connected, text, axe_script)
    card = page.locator(f"#campaign-{campaign_id}")
    await expect(page.get_by_role("status")).to_contain_text("The campaign is created.")
    await expect(card).to_contain_text("Every day at 09:30")
    await expect(card).to_contain_text(f"3 times ({ZONE})")
    await expect(card).to_contain_text("Active")
    await accessible_and_shot(page, axe_script, "campaigns")

    report = _campaign_pass(connected)
    # Every occurrence is within the week ahead (the loop may have made them a moment earlier).
    assert report["created"] + report["existing"] == 3, report  # type: ignore[operator]
    await card.get_by_role("link", name=re.compile("^Its posts on the calendar")).click()
    await expect(page).to_have_url(re.compile(rf"/calendar\?view=week&.*campaign={campaign_id}"))
    await expect(page.get_by_label("Campaign", exact=True)).to_have_value(campaign_id)
    first = page.get_by_role("heading", name=re.compile(rf"09:30 CES?T · {text}")).first
    await expect(first).to_be_visible()
    await expect(page.get_by_text(f"Scheduled · campaign {campaign_id}").first).to_be_visible()
    await accessible_and_shot(page, axe_script, "calendar-campaign")

    await _overview(page, console_url, published, axe_script)
    paths = ("/compose", "/campaigns", "/overview")
    await at_a_phones_width(browser, context, console_url, paths, axe_script)
    # End it: the scheduler cancels its three posts, so nothing is published after the test.
    await page.get_by_role("link", name="Campaigns").click()
    await card.get_by_role("button", name=re.compile("^End campaign")).click()
    await expect(page.get_by_role("status")).to_contain_text("3 future posts cancelled.")
    await expect(card).to_contain_text("Ended")
    await context.close()
