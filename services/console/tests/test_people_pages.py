"""Signing in with email and password, the Team page, invitations, sign-out everywhere, and
what a viewer sees (ADR 0024), against fakes of the APIs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from console.app import create_app
from console.sessions import SESSION_COOKIE
from console.settings import Settings
from console.testing import FakeApi
from console.testing_people import FakePeople

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
PASSWORD = "a long enough password"


class LiveSessions(set[str]):
    """The bearers the APIs accept: the API key, and every session auth-service holds now (so
    a revoked session is refused, as the APIs' introspection refuses it)."""

    def __init__(self, keys: set[str], people: FakePeople) -> None:
        super().__init__(keys)
        self._people = people

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key) or key in self._people.sessions


class Console:
    def __init__(self) -> None:
        self.people = FakePeople(NOW)
        self.owner = self.people.add("owner@bakery.example", PASSWORD, "owner", "Olga")
        self.api = FakeApi()
        self.api.keys = LiveSessions(self.api.keys, self.people)
        settings = Settings(time_zone="Europe/Berlin", secure_cookies=False)
        app = create_app(settings, api=self.api, people=self.people, now=lambda: NOW)
        self.transport = httpx.ASGITransport(app=app)

    def browser(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, base_url="http://console.test")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


async def sign_in(browser: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    form = await browser.get("/sign-in")
    data = {"email": email, "password": password, "csrf": csrf_of(form.text)}
    return await browser.post("/sign-in", data=data)


async def test_email_sign_in_keeps_the_session_token_on_the_server() -> None:
    console = Console()
    browser = console.browser()
    answer = await sign_in(browser, "Owner@bakery.example ", PASSWORD)
    assert answer.status_code == 303, answer.text
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    token = next(iter(console.people.sessions))
    assert token not in cookie
    assert console.people.addresses == ["127.0.0.1"]  # the browser's, for the failure limit
    page = await browser.get("/integrations")
    assert "Olga · owner · Herald Demo Bakery" in page.text
    assert 'href="/team"' in page.text
    assert 'action="/sign-out-everywhere"' in page.text


async def test_a_wrong_password_is_said_at_the_fields_and_csrf_is_required() -> None:
    console = Console()
    browser = console.browser()
    wrong = await sign_in(browser, "owner@bakery.example", "not the password")
    assert wrong.status_code == 401
    assert "The email or the password is wrong." in wrong.text
    assert 'id="email" name="email"' in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    forged = await browser.post(
        "/sign-in", data={"email": "owner@bakery.example", "password": PASSWORD, "csrf": "x"}
    )
    assert forged.status_code == 403
    assert SESSION_COOKIE not in forged.headers.get("set-cookie", "")
    assert console.people.sessions == {}


async def test_an_owner_invites_and_the_invited_person_joins() -> None:
    console = Console()
    owner = console.browser()
    await sign_in(owner, "owner@bakery.example", PASSWORD)
    team = await owner.get("/team")
    assert team.status_code == 200
    forged = await owner.post(
        "/team/invitations", data={"email": "vic@bakery.example", "role": "viewer", "csrf": "x"}
    )
    assert forged.status_code == 403
    assert console.people.invitations == {}
    made = await owner.post(
        "/team/invitations",
        data={"email": "vic@bakery.example", "role": "viewer", "csrf": csrf_of(team.text)},
    )
    assert made.status_code == 201, made.text
    link = re.search(r'id="invitation-link" type="text" readonly value="([^"]+)"', made.text)
    assert link is not None
    assert link.group(1).startswith("http://console.test/invitations/hi_")

    guest = console.browser()
    page = await guest.get(link.group(1))
    assert "as viewer, as vic@bakery.example" in page.text
    short = await guest.post(
        link.group(1), data={"name": "Vic", "password": "short", "csrf": csrf_of(page.text)}
    )
    assert short.status_code == 400
    assert "password: must be at least 12 characters" in short.text
    joined = await guest.post(
        link.group(1), data={"name": "Vic", "password": PASSWORD, "csrf": csrf_of(short.text)}
    )
    assert joined.status_code == 303, joined.text
    assert (await guest.get(link.group(1))).status_code == 404  # used once


async def test_a_viewer_sees_no_write_actions_and_no_team() -> None:
    console = Console()
    console.people.add("vic@bakery.example", PASSWORD, "viewer", "Vic")
    viewer = console.browser()
    await sign_in(viewer, "vic@bakery.example", PASSWORD)
    page = await viewer.get("/integrations")
    assert 'href="/team"' not in page.text
    assert 'href="/compose"' not in page.text
    buttons = re.findall(r"<button[^>]*>([^<]+)</button>", page.text)
    assert buttons == ["Sign out", "Sign out everywhere"]
    assert (await viewer.get("/team")).status_code == 403


async def test_sign_out_everywhere_ends_every_session_of_the_person() -> None:
    console = Console()
    laptop, phone = console.browser(), console.browser()
    await sign_in(laptop, "owner@bakery.example", PASSWORD)
    await sign_in(phone, "owner@bakery.example", PASSWORD)
    page = await laptop.get("/integrations")
    out = await laptop.post("/sign-out-everywhere", data={"csrf": csrf_of(page.text)})
    assert (out.status_code, out.headers["location"]) == (303, "/sign-in")
    assert console.people.sessions == {}
    assert len(console.people.revoked) == 2
    gone = await laptop.get("/integrations")
    assert (gone.status_code, gone.headers["location"]) == (303, "/sign-in")
    # The phone's cookie still opens, but auth-service refuses its session: the page says it
    # ended and drops the cookie, so the next page is the sign-in form.
    ended = await phone.get("/integrations")
    assert ended.status_code == 401
    assert "Your session has ended" in ended.text
    assert f'{SESSION_COOKIE}=""' in ended.headers["set-cookie"]
    again = await phone.get("/integrations")
    assert (again.status_code, again.headers["location"]) == (303, "/sign-in")


async def test_sign_out_revokes_the_session_in_auth_service() -> None:
    console = Console()
    browser = console.browser()
    await sign_in(browser, "owner@bakery.example", PASSWORD)
    token = next(iter(console.people.sessions))
    page = await browser.get("/integrations")
    await browser.post("/sign-out", data={"csrf": csrf_of(page.text)})
    assert console.people.revoked == [token]


async def test_a_person_in_several_businesses_chooses_one() -> None:
    console = Console()
    console.owner.businesses = [("biz_0a", "Bakery"), ("biz_0b", "Cafe (Main St)")]
    browser = console.browser()
    asked = await sign_in(browser, "owner@bakery.example", PASSWORD)
    assert asked.status_code == 400
    assert '<option value="biz_0b">Cafe (Main St)</option>' in asked.text
    data = {
        "email": "owner@bakery.example",
        "password": PASSWORD,
        "business_id": "biz_0b",
        "csrf": csrf_of(asked.text),
    }
    chosen = await browser.post("/sign-in", data=data)
    assert chosen.status_code == 303, chosen.text
    assert "Olga · owner · Cafe (Main St)" in (await browser.get("/integrations")).text
