"""The calendar's *Reschedule* form (issue 22): offered on a post whose every target still
waits, its time read in the business's zone and sent to the scheduler's reschedule route with
the CSRF token; a refusal, the console's own or the scheduler's (its 422 at `publish_at`, its
409), is shown at the post's field; a viewer is offered no form and refused one sent anyway."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from console import calendar, views
from console.app import create_app
from console.client import ApiError, Integration, Post
from console.settings import Settings
from console.testing import KEY, FakeApi
from console.testing_people import FakePeople
from herald.events import Violation

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)  # 11:00 in Berlin
BERLIN = ZoneInfo("Europe/Berlin")
DUE = datetime(2026, 12, 9, 15, 30, tzinfo=UTC)  # 16:30 in Berlin
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
VIEW = "/calendar?view=day&day=2026-12-09"


def post(post_id: str, *states: str, status: str = "scheduled") -> Post:
    targets = [
        {
            "target_id": f"{post_id}-{n}",
            "integration_id": "int_fb",
            "platform": "facebook",
            "state": state,
            "attempts": 0,
            "due_at": DUE,
        }
        for n, state in enumerate(states)
    ]
    return Post.model_validate(
        {
            "post_id": post_id,
            "status": status,
            "created_at": NOW,
            "due_at": DUE,
            "content": {"text": f"Bread {post_id}"},
            "targets": targets,
        }
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


async def signed_in(api: FakeApi) -> httpx.AsyncClient:
    settings = Settings(time_zone="Europe/Berlin", secure_cookies=False)
    transport = httpx.ASGITransport(app=create_app(settings, api=api, now=lambda: NOW))
    browser = httpx.AsyncClient(transport=transport, base_url="http://console.test")
    page = await browser.get("/sign-in")
    await browser.post("/sign-in", data={"api_key": KEY, "csrf": csrf_of(page.text)})
    return browser


def test_only_a_post_whose_every_target_waits_can_move() -> None:
    rows = views.post_rows(
        [
            post("p1", "scheduled", "scheduled"),
            post("p2", "scheduled", "dispatched", status="publishing"),
            post("p3", "draft", status="draft"),
            post("p4", "cancelled", status="cancelled"),
        ],
        [ACCOUNT],
    )
    assert [calendar.movable(r) for r in rows] == [True, False, False, False]


def test_the_new_time_is_read_in_the_business_zone() -> None:
    zone = "Europe/Berlin"
    assert calendar.reschedule_body("2026-12-10T08:15", zone, NOW) == {
        "publish_at": "2026-12-10T08:15:00",
        "timezone": "Europe/Berlin",
    }
    assert calendar.reschedule_body("", zone, NOW) == "Give the new date and time to publish at."
    assert calendar.reschedule_body("tomorrow", zone, NOW) == (
        "Give the new date and time to publish at."
    )
    # 10:30 in Berlin is 09:30 UTC: before the console's now (10:00 UTC)
    assert calendar.reschedule_body("2026-12-09T10:30", zone, NOW) == (
        "This time has passed: choose a later one."
    )
    assert calendar.input_value(DUE, BERLIN) == "2026-12-09T16:30"


async def test_a_move_calls_the_scheduler_and_shows_the_post_on_its_new_day() -> None:
    api = FakeApi(accounts=[ACCOUNT], posted=[post("p1", "scheduled")])
    browser = await signed_in(api)
    page = await browser.get(VIEW)
    html = page.text
    assert 'action="/posts/p1/reschedule"' in html
    assert '<label for="move-p1">New time (Europe/Berlin)</label>' in html
    assert 'value="2026-12-09T16:30"' in html  # the current time, in the business's zone
    answer = await browser.post(
        "/posts/p1/reschedule",
        data={"csrf": csrf_of(html), "back": VIEW, "publish_at": "2026-12-11T08:15"},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == (
        "/calendar?view=day&day=2026-12-11&done=reschedule#post-p1"
    )
    body = {"publish_at": "2026-12-11T08:15:00", "timezone": "Europe/Berlin"}
    assert api.actions == [("p1", "reschedule", body)]
    moved = await browser.get(answer.headers["location"])
    assert "The post is moved: here it is on its new day." in moved.text
    assert 'id="post-p1"' in moved.text


async def test_a_refusal_is_shown_at_the_posts_field() -> None:
    api = FakeApi(accounts=[ACCOUNT], posted=[post("p1", "scheduled"), post("p2", "scheduled")])
    browser = await signed_in(api)
    csrf = csrf_of((await browser.get(VIEW)).text)

    own = await browser.post(
        "/posts/p1/reschedule", data={"csrf": csrf, "back": VIEW, "publish_at": ""}
    )
    assert own.status_code == 422
    assert api.actions == []  # refused before the scheduler is asked
    assert 'aria-invalid="true" aria-describedby="move-err-p1"' in own.text
    assert (
        '<p class="field-error" id="move-err-p1">Give the new date and time to publish at.</p>'
        in own.text
    )
    assert "move-err-p2" not in own.text  # the other post's form is left alone

    past = Violation(path="publish_at", code="in_the_past", message="2026-12-01 is in the past")
    api.refusal = ApiError(422, "1 problem(s) with the request", [past])
    theirs = await browser.post(
        "/posts/p1/reschedule",
        data={"csrf": csrf, "back": VIEW, "publish_at": "2026-12-12T09:00"},
    )
    assert theirs.status_code == 422
    assert "Not moved: 2026-12-01 is in the past" in theirs.text
    assert 'value="2026-12-12T09:00"' in theirs.text  # what was typed stays

    api.refusal = ApiError(409, "the post cannot move now: p1-0 is due within seconds")
    late = await browser.post(
        "/posts/p1/reschedule",
        data={"csrf": csrf, "back": VIEW, "publish_at": "2026-12-12T09:00"},
    )
    assert late.status_code == 409
    assert "Not moved: the post cannot move now: p1-0 is due within seconds" in late.text
    forged = await browser.post(
        "/posts/p1/reschedule", data={"csrf": "forged", "publish_at": "2026-12-12T09:00"}
    )
    assert forged.status_code == 403


async def test_a_viewer_is_offered_no_reschedule_and_a_forced_one_is_refused() -> None:
    people = FakePeople(NOW)
    people.add("vic@bakery.example", "a long enough password", "viewer", "Vic")
    api = FakeApi(accounts=[ACCOUNT], posted=[post("p1", "scheduled")])
    settings = Settings(time_zone="Europe/Berlin", secure_cookies=False)
    app = create_app(settings, api=api, people=people, now=lambda: NOW)
    viewer = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c.test")
    form = await viewer.get("/sign-in")
    data = {
        "email": "vic@bakery.example",
        "password": "a long enough password",
        "csrf": csrf_of(form.text),
    }
    assert (await viewer.post("/sign-in", data=data)).status_code == 303
    api.keys |= set(people.sessions)
    page = await viewer.get(VIEW)
    assert "Bread p1" in page.text
    assert "/reschedule" not in page.text
    forced = await viewer.post(
        "/posts/p1/reschedule",
        data={"csrf": csrf_of(page.text), "publish_at": "2026-12-12T09:00"},
    )
    assert forced.status_code == 403
    assert api.actions == []
