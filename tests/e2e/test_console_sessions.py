"""Console sessions sealed in the cookie (ADR 0024) on the running system: a person signed in
stays signed in when the console process restarts and at a second console process (a replica
with the same keyring, as the chart runs two), and signing out at one ends the session for a
copy of the cookie at the other (auth-service refuses it, the page says so). Over HTTP: what
matters is the cookie, not the rendering (tests/e2e/test_console.py drives the browser)."""

from __future__ import annotations

import re

import httpx
import pytest
from tests.conftest import Connected
from tests.e2e.console_browser import demo_owner

from herald_localstack import services

pytestmark = pytest.mark.e2e

COOKIE = "herald_console_session"


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def signed_in_page(browser: httpx.Client, url: str) -> httpx.Response:
    page = browser.get(f"{url}/integrations")
    assert page.status_code == 200, (page.status_code, page.headers.get("location"))
    assert "Sign out everywhere" in page.text  # a person's session, not the sign-in form
    return page


def test_a_session_survives_a_restart_and_opens_at_another_replica(connected: Connected) -> None:
    email, password = demo_owner(connected)
    url = connected.system.url("console")
    with httpx.Client(timeout=30) as browser:
        form = browser.get(f"{url}/sign-in")
        data = {"email": email, "password": password, "csrf": csrf(form.text)}
        signed = browser.post(f"{url}/sign-in", data=data)
        assert signed.status_code == 303, signed.text
        cookie = browser.cookies[COOKIE]
        assert len(cookie) < 1000
        signed_in_page(browser, url)

        connected.system.stop("console")
        connected.start("console")  # a new process: it holds nothing but the keyring
        signed_in_page(browser, url)

        # A second process with the same settings (its own port): the chart's second replica.
        console = next(s for s in services.SERVICES if s.name == "console")
        port = services.replica_port(connected.system.cfg, console, 1)
        extra = connected.extra_env.get("console")
        replica = connected.system.start("console", replica=1, extra_env=extra)
        try:
            other = f"http://127.0.0.1:{port}"
            page = signed_in_page(browser, other)
            out = browser.post(f"{other}/sign-out", data={"csrf": csrf(page.text)})
            assert (out.status_code, out.headers["location"]) == (303, "/sign-in")
        finally:
            connected.system.stop(replica)

    # A copy of the cookie, kept from before the sign-out: the session ended in auth-service.
    with httpx.Client(timeout=30) as copy:
        copy.cookies.set(COOKIE, cookie, domain="127.0.0.1", path="/")
        ended = copy.get(f"{url}/integrations")
        assert ended.status_code == 401, ended.text
        assert "Your session has ended" in ended.text
        again = copy.get(f"{url}/integrations")
        assert (again.status_code, again.headers["location"]) == (303, "/sign-in")
