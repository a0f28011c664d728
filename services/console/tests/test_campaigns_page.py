"""The Campaigns page: each campaign with its recurrence in words, its next occurrence and posts
so far in the business's zone, a link to its posts on the calendar (filtered by campaign, at the
week of its first post), and End behind a CSRF-checked form that a viewer is not offered and
cannot force; against fakes of the APIs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from console.app import create_app
from console.scheduler_client import Campaign
from console.settings import Settings
from console.testing import KEY, FakeApi
from console.testing_people import FakePeople
from console.testing_scheduler import FakeScheduler

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 17, 10, 0, tzinfo=UTC)  # a Thursday
ZONE = "Europe/Berlin"
PASSWORD = "a long enough password"


def campaign(campaign_id: str, name: str, rule: str | None, **more: object) -> Campaign:
    recurrence = None if rule is None else {
        "rule": rule, "timezone": ZONE, "starts_at": "2026-12-08T09:00:00"}  # fmt: skip
    return Campaign.model_validate(
        {
            "campaign_id": campaign_id,
            "name": name,
            "status": "active",
            "recurrence": recurrence,
            "created_at": NOW - timedelta(days=10),  # 2026-12-07 10:00 UTC
            "planned_until": NOW + timedelta(days=7),
        }
        | more
    )


def scheduler_with(*found: Campaign) -> FakeScheduler:
    return FakeScheduler(now=NOW, made={c.campaign_id: c for c in found})


async def signed_in(scheduler: FakeScheduler) -> httpx.AsyncClient:
    settings = Settings(time_zone=ZONE, secure_cookies=False)
    app = create_app(settings, api=FakeApi(), scheduler=scheduler, now=lambda: NOW)
    browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c.test")
    page = await browser.get("/sign-in")
    await browser.post("/sign-in", data={"api_key": KEY, "csrf": csrf_of(page.text)})
    return browser


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def card(html: str, campaign_id: str) -> str:
    found = re.search(rf'<li class="card" id="campaign-{campaign_id}".*?</li>', html, re.DOTALL)
    assert found is not None, html
    return re.sub(r"\s+", " ", found.group(0))


async def test_each_campaign_says_its_recurrence_next_occurrence_and_posts_so_far() -> None:
    scheduler = scheduler_with(
        campaign("c_daily", "Daily rye", "FREQ=DAILY;COUNT=30"),
        campaign("c_plain", "Winter", None),
        campaign("c_odd", "Twice a day", "FREQ=DAILY;BYHOUR=9,18", status="ended"),
    )
    browser = await signed_in(scheduler)
    page = await browser.get("/campaigns")
    assert page.status_code == 200
    assert '<a href="/campaigns" aria-current="page">Campaigns</a>' in page.text
    daily = card(page.text, "c_daily")
    assert (
        "<dt>Recurrence</dt><dd>Every day at 09:00, from 2026-12-08, 30 times (Europe/Berlin)</dd>"
    ) in daily
    # Created 2026-12-07 11:00 Berlin: its occurrences from the 8th to the 17th have fallen due.
    assert "<dt>Posts so far</dt><dd>10</dd>" in daily
    assert "<dt>Next occurrence</dt><dd>2026-12-18 09:00 CET</dd>" in daily
    assert 'href="/calendar?view=week&amp;day=2026-12-08&amp;campaign=c_daily"' in daily
    assert 'action="/campaigns/c_daily/end"' in daily
    plain = card(page.text, "c_plain")
    assert "None: posts join it by naming it in Compose" in plain
    odd = card(page.text, "c_odd")
    assert "FREQ=DAILY;BYHOUR=9,18 in Europe/Berlin, from 2026-12-08 09:00" in odd
    assert "Ended" in odd
    assert "/end" not in odd  # an ended campaign offers no End
    assert page.text.index("c_daily") < page.text.index("c_odd")  # active ones first


async def test_end_calls_the_schedulers_route_and_says_what_it_cancelled() -> None:
    scheduler = scheduler_with(campaign("c_daily", "Daily rye", "FREQ=DAILY"))
    browser = await signed_in(scheduler)
    csrf = csrf_of((await browser.get("/campaigns")).text)
    forged = await browser.post("/campaigns/c_daily/end", data={"csrf": "forged"})
    assert forged.status_code == 403
    ended = await browser.post("/campaigns/c_daily/end", data={"csrf": csrf})
    assert ended.status_code == 303
    assert ended.headers["location"] == "/campaigns?done=ended&cancelled=3#campaign-c_daily"
    kept = await browser.post("/campaigns/c_daily/end", data={"csrf": csrf, "keep_posts": "on"})
    assert scheduler.ends == [("c_daily", False), ("c_daily", True)]
    assert kept.status_code == 303
    page = await browser.get("/campaigns?done=ended&cancelled=3")
    assert "The campaign has ended: it creates no more posts. 3 future posts cancelled." in (
        page.text
    )


async def test_the_empty_page_says_how_to_make_one_and_a_refusal_is_shown() -> None:
    scheduler = FakeScheduler(now=NOW)
    browser = await signed_in(scheduler)
    page = await browser.get("/campaigns")
    assert "No campaigns yet" in page.text
    assert 'choose "As a recurring campaign" to make one' in page.text
    scheduler.keys.clear()
    refused = await browser.get("/campaigns")
    assert refused.status_code == 401
    assert "invalid API key" in refused.text


async def test_a_viewer_sees_campaigns_without_end_and_cannot_force_one() -> None:
    people = FakePeople(NOW)
    people.add("vic@bakery.example", PASSWORD, "viewer", "Vic")
    scheduler = scheduler_with(campaign("c_daily", "Daily rye", "FREQ=DAILY"))
    api = FakeApi()
    settings = Settings(time_zone=ZONE, secure_cookies=False)
    app = create_app(settings, api=api, people=people, scheduler=scheduler, now=lambda: NOW)
    viewer = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c.test")
    form = await viewer.get("/sign-in")
    data = {"email": "vic@bakery.example", "password": PASSWORD, "csrf": csrf_of(form.text)}
    assert (await viewer.post("/sign-in", data=data)).status_code == 303
    scheduler.keys |= set(people.sessions)
    page = await viewer.get("/campaigns")
    assert "Daily rye" in page.text
    assert "/end" not in page.text
    assert "An editor or owner makes them in Compose." not in page.text  # there is one
    forced = await viewer.post("/campaigns/c_daily/end", data={"csrf": csrf_of(page.text)})
    assert forced.status_code == 403
    assert scheduler.ends == []


async def test_without_the_schedulers_routes_the_page_says_so() -> None:
    settings = Settings(time_zone=ZONE, secure_cookies=False)
    app = create_app(settings, api=FakeApi(), now=lambda: NOW)
    browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c.test")
    page = await browser.get("/sign-in")
    await browser.post("/sign-in", data={"api_key": KEY, "csrf": csrf_of(page.text)})
    answer = await browser.get("/campaigns")
    assert answer.status_code == 502
    assert "no connection to the scheduler&#39;s campaign routes" in answer.text
