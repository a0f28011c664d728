"""The business's own time zone (auth-service's `GET/PATCH /v1/business`): every page shows and
reads times in it, the console's HERALD_CONSOLE_TIME_ZONE only stands in for a business without
one, and an owner changes it on the Settings page (a labelled select, CSRF, errors at the
field); against fakes of the APIs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from console.app import create_app
from console.client import Integration, Post
from console.settings import Settings
from console.settings_routes import zone_names
from console.testing import KEY, FakeApi
from console.testing_people import FakePeople

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 9, 20, 0, tzinfo=UTC)  # Thursday 05:00 in Tokyo, Wednesday in Berlin
PASSWORD = "a long enough password"
ACCOUNT = Integration.model_validate(
    {
        "integration_id": "int_fb",
        "platform": "facebook",
        "account_id": "1001",
        "account_name": "Demo Bakery Page",
        "status": "active",
        "connected_at": NOW - timedelta(days=3),
        "last_used_at": NOW,
    }
)
POST = Post.model_validate(
    {
        "post_id": "p1",
        "status": "scheduled",
        "created_at": NOW,
        "due_at": NOW + timedelta(hours=1),  # 06:00 Thursday in Tokyo
        "content": {"text": "Rye"},
        "targets": [
            {
                "target_id": "p1-t",
                "integration_id": "int_fb",
                "platform": "facebook",
                "state": "scheduled",
                "attempts": 0,
                "due_at": NOW + timedelta(hours=1),
            }
        ],
    }
)


class World:
    def __init__(self, zone: str | None) -> None:
        self.people = FakePeople(NOW, zone=zone)
        self.people.add("owner@bakery.example", PASSWORD, "owner", "Olga")
        self.people.add("ed@bakery.example", PASSWORD, "editor", "Ed")
        self.api = FakeApi(accounts=[ACCOUNT], posted=[POST])
        settings = Settings(time_zone="Europe/Berlin", secure_cookies=False)
        app = create_app(settings, api=self.api, people=self.people, now=lambda: NOW)
        self.transport = httpx.ASGITransport(app=app)

    async def signed_in(self, email: str = "owner@bakery.example") -> httpx.AsyncClient:
        browser = httpx.AsyncClient(transport=self.transport, base_url="http://console.test")
        form = await browser.get("/sign-in")
        data = {"email": email, "password": PASSWORD, "csrf": csrf_of(form.text)}
        assert (await browser.post("/sign-in", data=data)).status_code == 303
        self.api.keys |= set(self.people.sessions)
        return browser


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


async def test_every_page_shows_and_reads_times_in_the_business_zone() -> None:
    world = World("Asia/Tokyo")
    browser = await world.signed_in()

    integrations = await browser.get("/integrations")
    assert "2026-12-10 05:00 JST" in integrations.text  # last used 20:00 UTC, shown in Tokyo
    assert "Times are shown in Asia/Tokyo." in integrations.text
    history = await browser.get("/history")
    assert "due 2026-12-10 06:00 JST" in history.text

    calendar = await browser.get("/calendar?view=day")
    assert calendar.status_code == 200
    # Today is Thursday in Tokyo (Wednesday in Berlin, the console's default): Tokyo's day.
    assert world.api.queries[-1]["due_from"] == "2026-12-10T00:00:00+09:00"
    assert "Rye" in calendar.text  # the post at 06:00 on Thursday, Tokyo's today

    compose = await browser.get("/compose")
    assert "In the business's time zone, Asia/Tokyo." in compose.text
    later = {
        "csrf": csrf_of(compose.text),
        "target": "int_fb",
        "text": "Rye",
        "when": "later",
        "publish_at": "2026-12-10T09:30",
        "action": "submit",
        "token": "t1",
    }
    assert (await browser.post("/compose", data=later)).status_code == 303
    [(body, _)] = world.api.submitted
    assert body["schedule"] == {"publish_at": "2026-12-10T09:30:00", "timezone": "Asia/Tokyo"}

    moved = await browser.post(
        "/posts/p1/reschedule",
        data={
            "csrf": csrf_of(calendar.text),
            "publish_at": "2026-12-11T08:00",
            "back": "/calendar",
        },
    )
    assert moved.status_code == 303
    assert world.api.actions[-1][2] == {
        "publish_at": "2026-12-11T08:00:00",
        "timezone": "Asia/Tokyo",
    }
    assert "day=2026-12-11" in moved.headers["location"]  # the new day in Tokyo


async def test_a_business_without_a_zone_uses_the_consoles_default_and_says_so() -> None:
    world = World(None)
    browser = await world.signed_in()
    page = await browser.get("/compose")
    assert "This business has no time zone set" in page.text
    assert "read in Europe/Berlin, the console's default" in page.text
    settings = await browser.get("/settings")
    assert "None set (pages use Europe/Berlin)" in settings.text


async def test_an_owner_chooses_the_zone_from_a_labelled_select() -> None:
    world = World(None)
    browser = await world.signed_in()
    page = await browser.get("/settings")
    assert page.status_code == 200
    assert '<label for="timezone">Time zone</label>' in page.text
    assert '<select id="timezone" name="timezone"' in page.text
    assert '<option value="America/New_York">America/New York</option>' in page.text
    assert 'href="/settings" aria-current="page"' in page.text

    saved = await browser.post(
        "/settings/time-zone", data={"csrf": csrf_of(page.text), "timezone": "America/New_York"}
    )
    assert saved.status_code == 303
    assert world.people.zone == "America/New_York"
    after = await browser.get(saved.headers["location"])
    assert "every page now shows and reads times in America/New_York" in after.text
    assert '<option value="America/New_York" selected>' in after.text
    history = await browser.get("/history")
    assert "due 2026-12-09 16:00 EST" in history.text  # this session follows at once


async def test_a_wrong_zone_or_a_forged_form_is_refused_at_the_field() -> None:
    world = World("Europe/Paris")
    browser = await world.signed_in()
    page = await browser.get("/settings")
    wrong = await browser.post(
        "/settings/time-zone", data={"csrf": csrf_of(page.text), "timezone": "Mars/Olympus"}
    )
    assert wrong.status_code == 422
    assert 'aria-invalid="true"' in wrong.text
    assert '<p class="field-error">Choose a time zone from the list' in wrong.text
    forged = await browser.post(
        "/settings/time-zone", data={"csrf": "not-it", "timezone": "Asia/Tokyo"}
    )
    assert forged.status_code == 403
    assert world.people.zone == "Europe/Paris"


async def test_only_owners_see_and_use_settings() -> None:
    world = World("Europe/Paris")
    editor = await world.signed_in("ed@bakery.example")
    page = await editor.get("/integrations")
    assert 'href="/settings"' not in page.text
    assert (await editor.get("/settings")).status_code == 403
    forced = await editor.post(
        "/settings/time-zone", data={"csrf": csrf_of(page.text), "timezone": "Asia/Tokyo"}
    )
    assert forced.status_code == 403
    assert world.people.zone == "Europe/Paris"


async def test_an_api_key_session_reads_its_business_zone() -> None:
    world = World("Asia/Tokyo")
    browser = httpx.AsyncClient(transport=world.transport, base_url="http://console.test")
    form = await browser.get("/sign-in")
    await browser.post("/sign-in", data={"api_key": KEY, "csrf": csrf_of(form.text)})
    page = await browser.get("/integrations")
    assert "Times are shown in Asia/Tokyo." in page.text


def test_the_list_holds_real_zones_and_no_legacy_aliases() -> None:
    names = zone_names()
    assert {"Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"} <= set(names)
    assert not {"US/Pacific", "Etc/GMT+5", "posixrules"} & set(names)
