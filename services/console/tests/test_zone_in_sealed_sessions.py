"""The business's zone in sealed sessions (ADR 0024): sealed into the cookie at sign-in, sealed
again into the owner's cookie when they change it on Settings, and, since nobody else's cookie
can be rewritten, read again from auth-service by each console process at most once a minute per
business: the process where it changed shows it at once, another within the minute."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import httpx
import pytest

from console.app import create_app
from console.client import Integration, Post
from console.keys import keyring
from console.sessions import SESSION_COOKIE, Session, Sessions
from console.settings import Settings
from console.testing import FakeApi
from console.testing_people import BUSINESS_ID, FakePeople
from console.zones import MAX_AGE_S, BusinessZones
from herald.settings import load_settings

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 9, 20, 0, tzinfo=UTC)
PASSWORD = "a long enough password"
KEYS = {"k1": "YSBrZXkgb2YgdGhpcyB0ZXN0LCAzMiBieXRlcy4uLi4="}  # 32 bytes, base64
DUE = NOW + timedelta(hours=1)  # 22:00 in Paris, 06:00 Thursday in Tokyo
POST = Post.model_validate(
    {
        "post_id": "p1",
        "status": "scheduled",
        "created_at": NOW,
        "due_at": DUE,
        "content": {"text": "Rye"},
        "targets": [
            {
                "target_id": "p1-t",
                "integration_id": "int_fb",
                "platform": "facebook",
                "state": "scheduled",
                "attempts": 0,
                "due_at": DUE,
            }
        ],
    }
)
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


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def configured() -> Settings:
    environ = {
        "HERALD_CONSOLE_SESSIONS__KEYS": json.dumps(KEYS),
        "HERALD_CONSOLE_SECURE_COOKIES": "false",
        "HERALD_CONSOLE_TIME_ZONE": "UTC",
    }
    with patch.dict(os.environ, environ):
        return load_settings(Settings)


class Replicas:
    """Two console processes with the same keys, the same auth-service and scheduler."""

    def __init__(self, zone: str | None) -> None:
        self.people = FakePeople(NOW, zone=zone)
        self.people.add("owner@bakery.example", PASSWORD, "owner", "Olga")
        self.people.add("ed@bakery.example", PASSWORD, "editor", "Ed")
        self.api = FakeApi(accounts=[ACCOUNT], posted=[POST])
        self.clock = Clock()
        self.apps = [
            create_app(
                configured(),
                api=self.api,
                people=self.people,
                now=lambda: NOW,
                zones=BusinessZones(clock=self.clock),
            )
            for _ in range(2)
        ]

    async def signed_in(self, email: str, at: int = 0) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.apps[at])
        browser = httpx.AsyncClient(transport=transport, base_url="http://console.test")
        form = await browser.get("/sign-in")
        data = {"email": email, "password": PASSWORD, "csrf": csrf_of(form.text)}
        assert (await browser.post("/sign-in", data=data)).status_code == 303
        self.api.keys |= set(self.people.sessions)
        return browser


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def opened(browser: httpx.AsyncClient) -> Session:
    session = Sessions(keyring(configured()), 3600).get(browser.cookies.get(SESSION_COOKIE))
    assert session is not None
    return session


async def due_shown(browser: httpx.AsyncClient) -> str:
    page = await browser.get("/history")
    assert page.status_code == 200, page.text
    found = re.search(r"due (\d{4}-\d\d-\d\d \d\d:\d\d \w+)", page.text)
    assert found is not None, page.text
    return found.group(1)


async def test_the_zone_and_business_are_sealed_in_the_cookie_at_sign_in() -> None:
    replicas = Replicas("Europe/Paris")
    owner = await replicas.signed_in("owner@bakery.example")
    session = opened(owner)
    assert (session.zone, session.business_id) == ("Europe/Paris", BUSINESS_ID)
    assert "Europe/Paris" not in (owner.cookies.get(SESSION_COOKIE) or "")  # sealed, not shown
    assert await due_shown(owner) == "2026-12-09 22:00 CET"


async def test_the_owner_gets_a_cookie_sealed_again_with_the_new_zone() -> None:
    replicas = Replicas("Europe/Paris")
    owner = await replicas.signed_in("owner@bakery.example")
    before = opened(owner)
    page = await owner.get("/settings")
    saved = await owner.post(
        "/settings/time-zone", data={"csrf": csrf_of(page.text), "timezone": "Asia/Tokyo"}
    )
    assert saved.status_code == 303
    assert SESSION_COOKIE in saved.headers["set-cookie"]
    after = opened(owner)
    assert after.zone == "Asia/Tokyo"
    assert after == Session(
        before.api_key, before.csrf, before.expires_at, before.person, "Asia/Tokyo", BUSINESS_ID
    )
    # The resealed cookie carries the zone by itself: another process, which has read nothing
    # of this business yet and whose auth-service read fails, still shows Tokyo.
    other = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=replicas.apps[1]), base_url="http://console.test"
    )
    other.cookies = owner.cookies
    replicas.people.sessions.clear()  # auth-service no longer answers for this session
    page = await other.get("/settings")
    assert "Now Asia/Tokyo." in page.text


async def test_other_sessions_follow_at_once_here_and_within_a_minute_elsewhere() -> None:
    replicas = Replicas("Europe/Paris")
    owner = await replicas.signed_in("owner@bakery.example", at=0)
    here = await replicas.signed_in("ed@bakery.example", at=0)
    there = await replicas.signed_in("ed@bakery.example", at=1)
    assert await due_shown(there) == "2026-12-09 22:00 CET"  # replica 1 read Paris just now

    page = await owner.get("/settings")
    data = {"csrf": csrf_of(page.text), "timezone": "Asia/Tokyo"}
    assert (await owner.post("/settings/time-zone", data=data)).status_code == 303

    assert await due_shown(here) == "2026-12-10 06:00 JST"  # the same process: at once
    assert opened(here).zone == "Europe/Paris"  # though its cookie still says Paris
    assert await due_shown(there) == "2026-12-09 22:00 CET"  # replica 1: not yet
    replicas.clock.now += MAX_AGE_S
    assert await due_shown(there) == "2026-12-10 06:00 JST"  # read again after a minute


def test_a_failing_read_is_not_retried_before_the_minute_and_keeps_what_was_known() -> None:
    clock = Clock()
    zones = BusinessZones(clock=clock)
    session = Session("hs_x", "c", 0.0, None, "Europe/Paris", BUSINESS_ID)
    assert zones.zone(session) == "Europe/Paris"  # nothing read yet: the cookie's
    assert zones.claim(BUSINESS_ID)
    assert not zones.claim(BUSINESS_ID)  # a concurrent page does not read it again
    assert zones.zone(session) == "Europe/Paris"  # the read failed: still the cookie's
    clock.now += MAX_AGE_S
    assert zones.claim(BUSINESS_ID)
    zones.put(BUSINESS_ID, None)  # the business has no zone now: the console's fallback
    assert zones.zone(session) is None
    clock.now += MAX_AGE_S
    assert zones.claim(BUSINESS_ID)  # read again; failing, it keeps the last known answer
    assert zones.zone(session) is None
    assert not zones.claim("")  # a session without a business reads nothing
