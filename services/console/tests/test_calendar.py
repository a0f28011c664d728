"""Calendar: the days a view covers in the business's zone, the filters (each refused by name),
the scheduler's list asked for one bounded page, posts grouped by local day with each target's
outcome, and the retry, cancel and schedule forms calling the scheduler's own routes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from console import calendar, views
from console.app import create_app
from console.client import ApiError, Integration, Post
from console.settings import Settings
from console.testing import KEY, FakeApi

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)  # a Wednesday
BERLIN = ZoneInfo("Europe/Berlin")
ACCOUNT = Integration.model_validate(
    {
        "integration_id": "int_fb",
        "platform": "facebook",
        "account_id": "1001",
        "account_name": "Demo Bakery Page",
        "status": "active",
        "connected_at": NOW - timedelta(days=3),
    }
)


def post(post_id: str, due: datetime, state: str, **changes: object) -> Post:
    target: dict[str, object] = {
        "target_id": f"{post_id}-t",
        "integration_id": "int_fb",
        "platform": "facebook",
        "state": state,
        "attempts": 3 if state == "failed" else 0,
        "due_at": due,
    }
    if state == "failed":
        target["last_error"] = {
            "category": "permanent",
            "code": "190",
            "message": "The access token expired",
            "remediation": "Reconnect the Page.",
        }
    base: dict[str, object] = {
        "post_id": post_id,
        "status": {"failed": "failed", "draft": "draft"}.get(state, "scheduled"),
        "created_at": NOW,
        "due_at": due,
        "content": {"text": f"Post {post_id}"},
        "targets": [target],
    }
    return Post.model_validate(base | changes)


def test_a_week_runs_monday_to_sunday_in_the_business_zone() -> None:
    view = calendar.read_view({"day": "2026-12-09"}, date(2026, 1, 1))
    assert (view.kind, view.days[0], view.days[-1]) == (
        "week",
        date(2026, 12, 7),
        date(2026, 12, 13),
    )
    query = view.query(BERLIN)
    assert query["due_from"] == "2026-12-07T00:00:00+01:00"
    assert query["due_to"] == "2026-12-14T00:00:00+01:00"
    assert query["limit"] == str(calendar.PAGE_SIZE)
    day = calendar.read_view(
        {"view": "day", "platform": "tiktok", "status": "failed"}, date(2026, 12, 9)
    )
    assert day.query(BERLIN) | {"due_from": "", "due_to": ""} == {
        "due_from": "",
        "due_to": "",
        "limit": "100",
        "platform": "tiktok",
        "status": "failed",
    }


def test_filters_the_scheduler_would_refuse_are_named() -> None:
    view = calendar.read_view(
        {
            "view": "month",
            "day": "yesterday",
            "platform": "myspace",
            "status": "lost",
            "campaign": "a b",
        },
        date(2026, 12, 9),
    )
    assert set(view.problems) == {"view", "day", "platform", "status", "campaign"}
    assert (view.kind, view.platform, view.status, view.campaign) == ("week", "", "", "")


def test_posts_fall_on_their_local_day_and_offer_what_the_scheduler_allows() -> None:
    late = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)  # Tuesday 00:30 in Berlin
    rows = views.post_rows(
        [post("p1", late, "scheduled"), post("p2", NOW, "failed"), post("p3", NOW, "draft")],
        [ACCOUNT],
    )
    view = calendar.read_view({"day": "2026-12-09"}, date(2026, 12, 9))
    days = {d.day: [r.post.post_id for r in d.rows] for d in calendar.by_day(rows, view, BERLIN)}
    assert days[date(2026, 12, 8)] == ["p1"]
    assert days[date(2026, 12, 9)] == ["p2", "p3"]
    assert days[date(2026, 12, 7)] == []
    assert [calendar.actions(r) for r in rows] == [["cancel"], ["retry"], ["schedule", "cancel"]]


def client(api: FakeApi) -> httpx.AsyncClient:
    settings = Settings(time_zone="Europe/Berlin", secure_cookies=False)
    transport = httpx.ASGITransport(app=create_app(settings, api=api, now=lambda: NOW))
    return httpx.AsyncClient(transport=transport, base_url="http://console.test")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


async def signed_in(api: FakeApi) -> httpx.AsyncClient:
    browser = client(api)
    page = await browser.get("/sign-in")
    await browser.post("/sign-in", data={"api_key": KEY, "csrf": csrf_of(page.text)})
    return browser


async def test_the_calendar_shows_each_targets_outcome_and_its_actions() -> None:
    api = FakeApi(accounts=[ACCOUNT], posted=[post("p2", NOW, "failed", campaign_id="winter")])
    browser = await signed_in(api)
    page = await browser.get("/calendar?platform=facebook&campaign=winter")
    assert page.status_code == 200, page.text
    assert api.queries[-1]["platform"] == "facebook"
    assert api.queries[-1]["campaign_id"] == "winter"
    html = page.text
    assert "Wednesday 09 December" in html
    assert "No posts this day with these filters." in html
    assert "Facebook · Demo Bakery Page: Failed" in html
    assert "Error 190: The access token expired" in html
    assert "Reconnect the Page." in html
    assert "Attempts: 3" in html
    assert "campaign winter" in html
    assert 'action="/posts/p2/retry"' in html
    assert 'action="/posts/p2/cancel"' not in html


async def test_an_action_calls_the_scheduler_and_comes_back_to_the_same_view() -> None:
    api = FakeApi(accounts=[ACCOUNT], posted=[post("p3", NOW, "draft")])
    browser = await signed_in(api)
    page = await browser.get("/calendar?view=day&day=2026-12-09")
    answer = await browser.post(
        "/posts/p3/schedule",
        data={
            "csrf": csrf_of(page.text),
            "back": "/calendar?view=day&day=2026-12-09",
            "publish_at": "2026-12-10T08:00",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/calendar?view=day&day=2026-12-09&done=schedule"
    body = {"schedule": {"publish_at": "2026-12-10T08:00:00", "timezone": "Europe/Berlin"}}
    assert api.actions == [("p3", "schedule", body)]
    assert "The draft is scheduled." in (await browser.get(answer.headers["location"])).text


async def test_a_refused_action_is_said_and_a_forged_one_refused() -> None:
    api = FakeApi(accounts=[ACCOUNT], posted=[post("p1", NOW, "scheduled")])
    browser = await signed_in(api)
    page = await browser.get("/calendar")
    assert (await browser.post("/posts/p1/cancel", data={"csrf": "forged"})).status_code == 403
    api.refusal = ApiError(409, "nothing to cancel: p1-t is dispatched")
    answer = await browser.post(
        "/posts/p1/cancel", data={"csrf": csrf_of(page.text), "back": "https://evil.test/x"}
    )
    assert answer.status_code == 409
    assert "nothing to cancel: p1-t is dispatched" in answer.text
    unknown = await browser.post("/posts/p1/delete", data={"csrf": csrf_of(page.text)})
    assert unknown.status_code == 404


async def test_a_bad_filter_is_a_422_naming_it_and_a_long_range_pages() -> None:
    many = [post(f"p{n}", NOW, "scheduled") for n in range(calendar.PAGE_SIZE + 1)]
    browser = await signed_in(FakeApi(accounts=[ACCOUNT], posted=many))
    answer = await browser.get("/calendar?status=lost")
    assert answer.status_code == 422
    assert "status must be one of draft, scheduled" in answer.text
    assert "show the next 100" in answer.text
