"""Sessions sealed into the cookie (ADR 0024): what opens, what does not (tampered, expired,
another purpose, a key no longer in the ring), rotation, the cookie's size, the keyring the
console refuses to start with, and a session that outlives its console process."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
from datetime import UTC, datetime
from unittest.mock import patch

import httpx
import pytest

from console.app import create_app
from console.keys import DEV_SESSION_KEY, keyring, refusals
from console.sessions import DOMAIN, SESSION_COOKIE, Person, Sessions
from console.settings import Settings
from console.testing import FakeApi
from console.testing_people import FakePeople
from herald.sealing import Keyring
from herald.settings import ConfigurationError, load_settings

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
PASSWORD = "a long enough password"
TOKEN = "hs_0123456789abcdef_" + "A" * 43  # auth-service's session shape
PERSON = Person("usr_0a1b2c", "olga@bakery.example", "Olga", "owner", "Herald Demo Bakery")


def key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def ring(keys: dict[str, str], primary: str) -> Keyring:
    raw = {kid: base64.b64decode(value) for kid, value in keys.items()}
    return Keyring(raw, primary, domain=DOMAIN)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_sealed_session_opens_to_what_was_sealed_and_hides_it() -> None:
    sessions = Sessions(ring({"k1": key()}, "k1"), ttl_s=3600)
    cookie, session = sessions.open(TOKEN, PERSON)
    assert sessions.get(cookie) == session
    assert session.person == PERSON
    assert session.csrf
    assert session.csrf != TOKEN
    for secret in (TOKEN, session.csrf, PERSON.email, "Olga"):
        assert secret not in cookie
    assert cookie.startswith("1.k1.")
    keyed, _ = sessions.open("hk_an_api_key")
    opened = sessions.get(keyed)
    assert opened is not None
    assert (opened.api_key, opened.person) == ("hk_an_api_key", None)


def test_a_changed_byte_anywhere_signs_the_browser_out() -> None:
    sessions = Sessions(ring({"k1": key()}, "k1"), ttl_s=3600)
    cookie, _ = sessions.open(TOKEN, PERSON)
    version, kid, nonce, ct = cookie.split(".")
    flipped = ct[:10] + ("B" if ct[10] != "B" else "C") + ct[11:]
    forged = [
        f"{version}.{kid}.{nonce}.{flipped}",
        f"{version}.{kid}.{nonce[::-1]}.{ct}",
        f"2.{kid}.{nonce}.{ct}",
        f"{version}.k2.{nonce}.{ct}",
        f"{version}.{kid}.{nonce}",
        cookie + ".x",
        "not a cookie",
        "1.k1.%%%.***",
    ]
    assert [sessions.get(c) for c in forged] == [None] * len(forged)


def test_an_expired_session_is_no_session() -> None:
    clock = Clock()
    sessions = Sessions(ring({"k1": key()}, "k1"), ttl_s=3600, clock=clock)
    cookie, session = sessions.open(TOKEN, PERSON, ttl_s=600)  # auth-service's time left
    assert session.expires_at == clock.now + 600
    clock.now += 599
    assert sessions.get(cookie) is not None
    clock.now += 1
    assert sessions.get(cookie) is None
    _, session = sessions.open(TOKEN, PERSON, ttl_s=10 * 3600)
    assert session.expires_at == clock.now + 3600  # never past the console's own limit


def test_a_cookie_sealed_for_another_purpose_or_console_does_not_open() -> None:
    shared = {"k1": key()}
    sessions = Sessions(ring(shared, "k1"), ttl_s=3600)
    cookie, session = sessions.open(TOKEN, PERSON)
    assert sessions.get(sessions.seal(session, purpose="invitation-cookie")) is None
    assert sessions.get(cookie, purpose="invitation-cookie") is None
    # The same key under another domain (another use of herald.sealing) opens nothing here.
    raw = {"k1": base64.b64decode(shared["k1"])}
    elsewhere = Sessions(Keyring(raw, "k1", domain="herald-sealed"), ttl_s=3600)
    assert elsewhere.get(cookie) is None
    assert Sessions(ring({"k1": key()}, "k1"), ttl_s=3600).get(cookie) is None  # another key


def test_keys_rotate_without_signing_anyone_out() -> None:
    old, new = key(), key()
    before = Sessions(ring({"k1": old}, "k1"), ttl_s=3600)
    cookie, session = before.open(TOKEN, PERSON)
    during = Sessions(ring({"k1": old, "k2": new}, "k2"), ttl_s=3600)
    assert during.get(cookie) == session  # the old key still opens its cookies
    fresh, _ = during.open(TOKEN, PERSON)
    assert fresh.startswith("1.k2.")  # new ones are sealed with the primary
    after = Sessions(ring({"k2": new}, "k2"), ttl_s=3600)
    assert after.get(fresh) is not None
    assert after.get(cookie) is None  # its key retired: that browser signs in again


def test_the_cookie_stays_well_under_4_kb() -> None:
    sessions = Sessions(ring({"k1": key()}, "k1"), ttl_s=3600)
    # With its business: an id as auth-service makes them, and one of the longest zone names.
    zone, business_id = "America/Argentina/ComodRivadavia", "biz_" + "0" * 24
    typical, _ = sessions.open(TOKEN, PERSON, zone=zone, business_id=business_id)
    assert len(typical) < 500, len(typical)
    # The longest person auth-service admits: a 254-character email, a 100-character name and
    # a 200-character business name, all in 4-byte characters where they may be.
    widest = Person("usr_" + "f" * 24, "a" * 242 + "@example.com", "😀" * 100, "viewer", "😀" * 200)
    longest, _ = sessions.open(TOKEN, widest, zone=zone, business_id=business_id)
    header = f"{SESSION_COOKIE}={longest}; HttpOnly; Max-Age=28800; Path=/; SameSite=strict; Secure"
    assert len(header.encode()) < 3000, len(header)


def settings(**environ: str) -> Settings:
    """The console's settings from these environment variables (as the service reads them)."""
    with patch.dict(os.environ, environ):
        return load_settings(Settings)


def test_production_refuses_to_start_without_keys_and_names_the_setting() -> None:
    unset = settings(HERALD_CONSOLE_ENVIRONMENT="production")
    [problem] = refusals(unset)
    assert problem.startswith("HERALD_CONSOLE_SESSIONS__KEYS: is missing")
    with pytest.raises(ConfigurationError, match="HERALD_CONSOLE_SESSIONS__KEYS"):
        create_app(unset, api=FakeApi())
    everywhere = "0.0.0.0"  # noqa: S104 - the setting this refuses
    public = settings(HERALD_CONSOLE_HTTP__HOST=everywhere, HERALD_CONSOLE_HTTP__PORT="8130")
    assert "not loopback only" in refusals(public)[0]  # development, but reachable from afar
    dev_key = settings(
        HERALD_CONSOLE_ENVIRONMENT="production",
        HERALD_CONSOLE_SESSIONS__KEYS=json.dumps({"k1": DEV_SESSION_KEY}),
    )
    assert refusals(dev_key) == [
        "HERALD_CONSOLE_SESSIONS__KEYS[k1]: is the public development key "
        "(HERALD_CONSOLE_ENVIRONMENT is production)"
    ]


def test_a_malformed_keyring_is_refused_anywhere_and_a_good_one_is_used() -> None:
    bad = settings(HERALD_CONSOLE_SESSIONS__KEYS=json.dumps({"k1": "c2hvcnQ="}))
    assert refusals(bad) == ["HERALD_CONSOLE_SESSIONS__KEYS[k1]: is not base64 of exactly 32 bytes"]
    two = settings(HERALD_CONSOLE_SESSIONS__KEYS=json.dumps({"k1": key(), "k2": key()}))
    assert refusals(two) == [
        "HERALD_CONSOLE_SESSIONS__PRIMARY_KID: is missing (several keys: name the one to seal)"
    ]
    with pytest.raises(ConfigurationError, match="HERALD_CONSOLE_SESSIONS__KEYS"):
        settings(HERALD_CONSOLE_SESSIONS__KEYS=json.dumps({"k.1": key()}))  # not cookie-safe
    good = settings(
        HERALD_CONSOLE_ENVIRONMENT="production",
        HERALD_CONSOLE_SESSIONS__KEYS=json.dumps({"k1": key(), "k2": key()}),
        HERALD_CONSOLE_SESSIONS__PRIMARY_KID="k2",
    )
    assert refusals(good) == []
    assert keyring(good).primary_kid == "k2"
    assert keyring(settings()).primary_kid == "dev"  # a local run on loopback


def console_process(api: FakeApi, people: FakePeople, keys: dict[str, str]) -> httpx.AsyncClient:
    """A browser at a console process; two processes with the same keys are two replicas, or
    one before and after a restart."""
    configured = settings(
        HERALD_CONSOLE_SESSIONS__KEYS=json.dumps(keys), HERALD_CONSOLE_SECURE_COOKIES="false"
    )
    app = create_app(configured, api=api, people=people, now=lambda: NOW)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test")


async def sign_in(browser: httpx.AsyncClient) -> httpx.Response:
    form = await browser.get("/sign-in")
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found is not None, form.text
    data = {"email": "owner@bakery.example", "password": PASSWORD, "csrf": found.group(1)}
    return await browser.post("/sign-in", data=data)


async def test_a_session_opens_at_another_replica_and_after_a_restart() -> None:
    people, api, keys = FakePeople(NOW), FakeApi(), {"k1": key()}
    people.add("owner@bakery.example", PASSWORD, "owner", "Olga")
    first = console_process(api, people, keys)
    signed = await sign_in(first)
    assert signed.status_code == 303, signed.text
    assert len(signed.headers["set-cookie"]) < 700
    api.keys |= set(people.sessions)  # the APIs accept the session auth-service made
    other = console_process(api, people, keys)  # a new process: it holds nothing
    other.cookies = first.cookies
    page = await other.get("/integrations")
    assert page.status_code == 200, page.text
    assert "Olga · owner · Herald Demo Bakery" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None
    out = await other.post("/sign-out", data={"csrf": csrf.group(1)})  # its CSRF token too
    assert (out.status_code, out.headers["location"]) == (303, "/sign-in")
    assert people.sessions == {}  # ended in auth-service: a copy of the cookie is refused


async def test_a_forged_or_foreign_cookie_is_signed_out_not_an_error() -> None:
    people, api = FakePeople(NOW), FakeApi()
    people.add("owner@bakery.example", PASSWORD, "owner", "Olga")
    here = console_process(api, people, {"k1": key()})
    await sign_in(here)
    elsewhere = console_process(api, people, {"k9": key()})  # not this console's keys
    elsewhere.cookies = here.cookies
    for browser, cookie in [(elsewhere, None), (here, "1.k1.AAAA.BBBB"), (here, "junk")]:
        if cookie is not None:
            browser.cookies.set(SESSION_COOKIE, cookie, domain="console.test")
        page = await browser.get("/integrations")
        assert (page.status_code, page.headers["location"]) == (303, "/sign-in")
        form = await browser.get("/sign-in")
        assert form.status_code == 200
        assert 'name="csrf"' in form.text  # the pre-sign-in token still works
