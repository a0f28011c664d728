"""Analytics of a post: snapshot ages as people say them, the chart's bars (the tallest fills
the chart, a zero stays visible), which figure is charted, the WhatsApp funnel, and the page
with its SVG chart, its table and the figures a platform would not give."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from console import analytics
from console.app import create_app
from console.settings import Settings
from console.testing import KEY, FakeApi

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)


def target(**changes: object) -> analytics.TargetAnalytics:
    base: dict[str, object] = {
        "target_id": "t1",
        "integration_id": "int_fb",
        "platform": "facebook",
        "published_at": NOW,
        "history": [
            {
                "age_s": 86_400,
                "collected_at": NOW,
                "metrics": {"views": {"value": 300, "platform_metric": "post_impressions"}},
            },
            {
                "age_s": 3600,
                "collected_at": NOW,
                "metrics": {
                    "views": {"value": 100, "platform_metric": "post_impressions"},
                    "reactions": {"value": 0, "platform_metric": "post_reactions_by_type_total"},
                },
                "absent": {"saves": "Facebook does not count saves"},
            },
        ],
    }
    return analytics.TargetAnalytics.model_validate(base | changes)


def test_ages_read_as_people_say_them() -> None:
    assert [analytics.age(s) for s in (1800, 3600, 86_400, 604_800)] == [
        "30 min",
        "1 h",
        "24 h",
        "7 d",
    ]


def test_bars_fill_the_chart_and_a_zero_stays_visible() -> None:
    found = analytics.bars([("a", 50.0), ("b", 100.0), ("c", 0.0)])
    assert [b.height for b in found] == [60.0, 120.0, 1.0]
    assert [b.y for b in found] == [60.0, 0.0, 119.0]
    assert found[1].x == found[0].width + analytics.GAP
    assert analytics.bars([]) == []


def test_the_first_common_figure_is_charted_by_age_and_whatsapp_gets_its_funnel() -> None:
    chart = analytics.chart(target())
    assert chart is not None
    assert chart.title == "Views by the post's age"
    assert [(b.label, b.value) for b in chart.bars] == [("1 h", 100.0), ("24 h", 300.0)]
    funnel = analytics.chart(
        target(
            platform="whatsapp",
            history=[],
            deliveries={"recipients": 10, "sent": 9, "delivered": 8, "read": 5, "failed": 1},
        )
    )
    assert funnel is not None
    assert [(b.label, b.value) for b in funnel.bars][-1] == ("Failed", 1.0)
    assert analytics.chart(target(history=[])) is None


async def test_the_page_shows_the_chart_the_table_and_what_is_absent() -> None:
    post = analytics.PostAnalytics(post_id="p1", targets=[target(latest=target().history[1])])
    api = FakeApi(insights={"p1": post})
    settings = Settings(time_zone="Europe/Berlin", secure_cookies=False)
    transport = httpx.ASGITransport(app=create_app(settings, api=api, now=lambda: NOW))
    browser = httpx.AsyncClient(transport=transport, base_url="http://console.test")
    form = await browser.get("/sign-in")
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found is not None
    await browser.post("/sign-in", data={"api_key": KEY, "csrf": found.group(1)})
    page = await browser.get("/posts/p1/analytics")
    assert page.status_code == 200
    assert '<svg viewBox="0 0 320 140" role="img"' in page.text
    assert "Views by the post&#39;s age: 1 h 100, 24 h 300" in page.text
    assert "<td>24 h</td><td>views</td><td>300</td><td>post_impressions</td>" in page.text
    assert "saves (Facebook does not count saves)" in page.text
    missing = await browser.get("/posts/p2/analytics")
    assert missing.status_code == 404
    assert "no post p2" in missing.text


def account(days: int = 10, **changes: object) -> analytics.AccountAnalytics:
    base: dict[str, object] = {
        "integration_id": "int_ig",
        "platform": "instagram",
        "from": "2026-11-11",
        "to": "2026-12-09",
        "days": [
            {
                "day": f"2026-11-{20 + n:02d}",
                "collected_at": NOW,
                "metrics": {
                    "followers": {"value": 1000 + 5 * n, "platform_metric": "followers_count"},
                    "reach": {"value": 40 + n, "platform_metric": "reach"},
                },
                "absent": {"following": "Instagram accounts have no following count"},
            }
            for n in range(days)
        ],
        "not_collected": ["2026-12-08"],
    }
    return analytics.AccountAnalytics.model_validate(base | changes)


def test_an_accounts_followers_are_charted_by_day_with_a_label_every_week() -> None:
    chart = analytics.account_chart(account())
    assert chart is not None
    assert chart.title == "Followers by day"
    assert [b.value for b in chart.bars] == [1000 + 5 * n for n in range(10)]
    assert [b.label for b in chart.bars if b.label] == ["20 Nov", "27 Nov", "29 Nov"]
    assert analytics.account_chart(account(days=0)) is None


async def test_the_account_page_shows_its_days_the_platform_names_and_what_is_missing() -> None:
    gone = account(days=2, not_collected_reason="The integration is disconnected: reconnect it.")
    api = FakeApi(account_insights={"int_ig": account(), "int_old": gone})
    settings = Settings(time_zone="Europe/Berlin", secure_cookies=False)
    transport = httpx.ASGITransport(app=create_app(settings, api=api, now=lambda: NOW))
    browser = httpx.AsyncClient(transport=transport, base_url="http://console.test")
    form = await browser.get("/sign-in")
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found is not None
    await browser.post("/sign-in", data={"api_key": KEY, "csrf": found.group(1)})
    page = await browser.get("/integrations/int_ig/analytics")
    assert page.status_code == 200, page.text
    assert "Followers by day: 1,000, 1,005" in page.text
    assert "<td>2026-11-29</td><td>followers</td><td>1,045</td><td>followers_count</td>" in (
        page.text
    )
    assert "following (Instagram accounts have no following count)" in page.text
    assert "Days with nothing collected yet: 2026-12-08." in page.text
    old = await browser.get("/integrations/int_old/analytics")
    assert "The integration is disconnected: reconnect it." in old.text
    missing = await browser.get("/integrations/int_nope/analytics")
    assert missing.status_code == 404
