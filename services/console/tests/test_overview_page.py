"""The Overview page: the period picked (7, 28 or 90 days; another is refused by name), the
scheduler's analytics summary for it (one call, the console reads no post list), published posts
with figures by platform as a server-drawn chart and a table, engagement totals, the top posts,
the accounts that need attention; against fakes of the APIs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from console import overview
from console.app import create_app
from console.client import Integration
from console.overview import Summary
from console.settings import Settings
from console.testing import KEY, FakeApi
from console.testing_scheduler import FakeScheduler

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
ZONE = "Europe/Berlin"


def account(integration_id: str, platform: str, status: str, **more: object) -> Integration:
    return Integration.model_validate(
        {
            "integration_id": integration_id,
            "platform": platform,
            "account_id": integration_id,
            "account_name": f"Demo {platform}",
            "status": status,
            "connected_at": NOW - timedelta(days=30),
        }
        | more
    )


ACCOUNTS = [
    account("int_fb", "facebook", "active"),
    account("int_ig", "instagram", "expired"),
    account("int_tt", "tiktok", "expiring", reauthorize_by=NOW + timedelta(days=3)),
]
SUMMARY = Summary.model_validate(
    {
        "from": NOW - timedelta(days=28),
        "to": NOW,
        "targets": 7,
        "metric": "views",
        "platforms": [
            {
                "platform": "facebook",
                "targets": 4,
                "totals": {"views": 1200.0, "reach": 800.0, "reactions": 40.0},
                "counted": {"views": 4, "reach": 4, "reactions": 4},
                "engagement_rate": 0.05,
            },
            {
                "platform": "tiktok",
                "targets": 3,
                "totals": {"views": 3000.0, "comments": 12.0},
                "counted": {"views": 3, "comments": 3},
                "engagement_rate": None,
            },
        ],
        "top_posts": [
            {
                "post_id": "p_top",
                "target_id": "t_top",
                "platform": "tiktok",
                "integration_id": "int_tt",
                "value": 2500.0,
                "platform_metric": "view_count",
                "collected_at": NOW - timedelta(hours=2),
            }
        ],
    }
)


async def signed_in(scheduler: FakeScheduler, accounts: list[Integration]) -> httpx.AsyncClient:
    settings = Settings(time_zone=ZONE, secure_cookies=False)
    api = FakeApi(accounts=accounts)
    app = create_app(settings, api=api, scheduler=scheduler, now=lambda: NOW)
    browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c.test")
    page = await browser.get("/sign-in")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    await browser.post("/sign-in", data={"api_key": KEY, "csrf": found.group(1)})
    return browser


def flat(html: str) -> str:
    return re.sub(r"\s+", " ", html)


async def test_the_overview_shows_the_period_by_platform_with_its_totals_and_top_posts() -> None:
    scheduler = FakeScheduler(now=NOW, answer=SUMMARY)
    browser = await signed_in(scheduler, ACCOUNTS)
    page = await browser.get("/overview")
    assert page.status_code == 200
    [asked] = scheduler.summaries  # one call for the whole period
    assert asked == {
        "from": (NOW - timedelta(days=28)).isoformat(),
        "to": NOW.isoformat(),
        "metric": "views",
        "top": "5",
    }
    html = flat(page.text)
    assert '<a href="/overview" aria-current="page">Overview</a>' in html
    assert '<strong aria-current="page">28 days</strong>' in html
    assert '<a href="/overview?days=7">7 days</a>' in html
    # The chart: one bar per platform, the tallest filling the height, titled with its figures.
    assert "Published posts with figures, by platform: Facebook 4, TikTok 3" in html
    assert html.count("<rect ") == 2
    assert (
        '<tr><th scope="row">Facebook</th><td>4</td><td>1,200</td><td>800</td><td>40</td>'
        "<td>—</td><td>5.0%</td></tr>"
    ) in html
    assert '<tr><th scope="row">TikTok</th><td>3</td><td>3,000</td><td>—</td>' in html
    assert '<dt>Views</dt><dd>4,200 <span class="meta">over 7 posts</span></dd>' in html
    assert "<dt>Engagement rate</dt><dd>5.0%</dd>" in html  # Facebook's: the one with reach
    assert '<a href="/posts/p_top/analytics">2,500 views' in html
    assert "TikTok · Demo tiktok" in html
    # Attention: the expired and the expiring account with what to do; the active one not.
    assert "Instagram · Demo instagram: Needs reconnecting" in html
    assert "TikTok · Demo tiktok: Expiring in 3 days" in html
    assert "Facebook · Demo facebook: Active" not in html


async def test_a_period_is_picked_and_another_is_refused_by_name() -> None:
    scheduler = FakeScheduler(now=NOW)
    browser = await signed_in(scheduler, [account("int_fb", "facebook", "active")])
    week = await browser.get("/overview?days=7")
    assert scheduler.summaries[-1]["from"] == (NOW - timedelta(days=7)).isoformat()
    assert '<strong aria-current="page">7 days</strong>' in week.text
    odd = await browser.get("/overview?days=5")
    assert odd.status_code == 422
    assert "days must be one of 7, 28, 90; showing 28." in odd.text
    assert scheduler.summaries[-1]["from"] == (NOW - timedelta(days=28)).isoformat()
    # The empty period and no account to worry about, said plainly.
    assert "No figures for this period" in odd.text
    assert "None: every connected account is active." in odd.text
    assert "No post has views in this period yet." in odd.text


def test_totals_add_only_the_figures_that_exist() -> None:
    found = {t.name: (t.value, t.counted) for t in overview.totals(SUMMARY)}
    assert found == {
        "views": (4200.0, 7),
        "reach": (800.0, 4),
        "reactions": (40.0, 4),
        "comments": (12.0, 3),
    }
    assert overview.columns(SUMMARY.platforms) == ["views", "reach", "reactions", "comments"]
    assert overview.figure(1234.0) == "1,234"
    assert overview.figure(2.5) == "2.5"


async def test_a_scheduler_that_does_not_answer_is_said_so() -> None:
    scheduler = FakeScheduler(now=NOW)
    scheduler.keys.clear()
    browser = await signed_in(scheduler, ACCOUNTS)
    page = await browser.get("/overview")
    assert page.status_code == 401
    assert "invalid API key" in page.text
