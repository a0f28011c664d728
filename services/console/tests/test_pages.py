"""The console's pages rendered against a fake API: sign-in and its CSRF check, each page's
content, empty states, times in the business's zone, errors the APIs answer."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from console.app import create_app
from console.client import ApiError, Integration, Post
from console.sessions import SESSION_COOKIE
from console.settings import Settings
from console.testing import KEY, FakeApi

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def integration(**changes: object) -> Integration:
    base: dict[str, object] = {
        "integration_id": "int_fb",
        "platform": "facebook",
        "account_id": "1001",
        "account_name": "Demo Bakery Page",
        "status": "active",
        "connected_at": NOW - timedelta(days=3),
        "last_used_at": NOW - timedelta(hours=1),
    }
    return Integration.model_validate(base | changes)


def post(**changes: object) -> Post:
    base: dict[str, object] = {
        "post_id": "post_1",
        "status": "partially_published",
        "created_at": NOW,
        "due_at": NOW,
        "content": {"text": "Fresh sourdough at 7am"},
        "targets": [
            {
                "target_id": "t1",
                "integration_id": "int_fb",
                "platform": "facebook",
                "state": "published",
                "attempts": 1,
                "due_at": NOW,
                "permalink": "https://www.facebook.com/1001/posts/9",
                "published_at": NOW + timedelta(minutes=1),
            },
            {
                "target_id": "t2",
                "integration_id": "int_ig",
                "platform": "instagram",
                "state": "failed",
                "attempts": 3,
                "due_at": NOW,
                "last_error": {
                    "category": "permanent",
                    "code": "9004",
                    "message": "The media could not be fetched",
                    "remediation": "Use a public https image URL.",
                },
            },
        ],
    }
    return Post.model_validate(base | changes)


def client(api: FakeApi, zone: str = "Europe/Berlin") -> httpx.AsyncClient:
    settings = Settings(time_zone=zone, secure_cookies=False)
    transport = httpx.ASGITransport(app=create_app(settings, api=api, now=lambda: NOW))
    return httpx.AsyncClient(transport=transport, base_url="http://console.test")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


async def signed_in(api: FakeApi, zone: str = "Europe/Berlin") -> httpx.AsyncClient:
    browser = client(api, zone)
    form = await browser.get("/sign-in")
    answer = await browser.post("/sign-in", data={"api_key": KEY, "csrf": csrf_of(form.text)})
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/integrations"
    return browser


async def page_text(browser: httpx.AsyncClient, path: str) -> str:
    answer = await browser.get(path)
    assert answer.status_code == 200, answer.text
    return answer.text


async def test_pages_need_a_sign_in() -> None:
    browser = client(FakeApi())
    for path in ("/integrations", "/history"):
        answer = await browser.get(path)
        assert (answer.status_code, answer.headers["location"]) == (303, "/sign-in")


async def test_sign_in_sets_a_strict_httponly_cookie_and_keeps_the_key_server_side() -> None:
    browser = client(FakeApi())
    form = await browser.get("/sign-in")
    assert '<label for="api_key">API key</label>' in form.text
    answer = await browser.post("/sign-in", data={"api_key": KEY, "csrf": csrf_of(form.text)})
    cookie = answer.headers["set-cookie"]
    assert f"{SESSION_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert KEY not in cookie


async def test_secure_cookies_by_default() -> None:
    app = create_app(Settings(), api=FakeApi(), now=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as browser:
        assert "Secure" in (await browser.get("/sign-in")).headers["set-cookie"]


async def test_sign_in_without_the_forms_token_is_refused() -> None:
    browser = client(FakeApi())
    await browser.get("/sign-in")
    answer = await browser.post("/sign-in", data={"api_key": KEY, "csrf": "forged"})
    assert answer.status_code == 403
    assert "came from another site" in answer.text
    assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")


async def test_a_wrong_key_is_named_at_the_field() -> None:
    browser = client(FakeApi())
    form = await browser.get("/sign-in")
    answer = await browser.post(
        "/sign-in", data={"api_key": "hk_wrong", "csrf": csrf_of(form.text)}
    )
    assert answer.status_code == 401
    assert "Herald did not accept this API key." in answer.text
    assert 'aria-describedby="sign-in-error"' in answer.text


async def test_integrations_show_status_last_error_and_remediation_in_the_business_zone() -> None:
    api = FakeApi(
        accounts=[
            integration(),
            integration(
                integration_id="int_ig",
                platform="instagram",
                account_name="demo.bakery",
                status="expiring",
                reauthorize_by=NOW + timedelta(days=3, hours=2),
            ),
            integration(
                integration_id="int_tt",
                platform="tiktok",
                account_name="@demobakery",
                status="expired",
                last_error="refresh token revoked by the user",
            ),
        ]
    )
    html = await page_text(await signed_in(api), "/integrations")
    assert "Facebook · Demo Bakery Page" in html
    assert "Active" in html
    assert "Expiring in 4 days" in html
    assert "Needs reconnecting" in html
    assert "refresh token revoked by the user" in html
    assert "Reconnect the account: its authorization ended" in html
    assert "2026-12-07 10:00 CET" in html  # last used 09:00 UTC, shown in Berlin
    assert "Times are shown in Europe/Berlin." in html


async def test_integrations_empty_state() -> None:
    html = await page_text(await signed_in(FakeApi()), "/integrations")
    assert "No connected accounts yet" in html


async def test_history_shows_each_targets_outcome_error_remediation_and_permalink() -> None:
    api = FakeApi(
        accounts=[integration(), integration(integration_id="int_ig", platform="instagram")],
        posted=[post()],
    )
    html = await page_text(await signed_in(api, zone="America/New_York"), "/history")
    assert "Fresh sourdough at 7am" in html
    assert "Partially published" in html
    assert "Facebook · Demo Bakery Page: Published" in html
    assert 'href="https://www.facebook.com/1001/posts/9"' in html
    assert "Instagram · Demo Bakery Page: Failed" in html
    assert "Error 9004: The media could not be fetched" in html
    assert "Use a public https image URL." in html
    assert "Attempts: 3" in html
    assert "2026-12-07 05:01 EST" in html


async def test_history_empty_state() -> None:
    html = await page_text(await signed_in(FakeApi()), "/history")
    assert "No posts yet" in html


async def test_an_api_that_fails_is_reported_not_hidden() -> None:
    api = FakeApi()
    browser = await signed_in(api)
    api.failure = ApiError(503, "scheduler did not answer")
    answer = await browser.get("/history")
    assert answer.status_code == 502
    assert "scheduler did not answer" in answer.text


async def test_sign_out_needs_the_sessions_token_and_ends_the_session() -> None:
    browser = await signed_in(FakeApi())
    page = await browser.get("/integrations")
    assert (await browser.post("/sign-out", data={"csrf": "forged"})).status_code == 403
    answer = await browser.post("/sign-out", data={"csrf": csrf_of(page.text)})
    assert (answer.status_code, answer.headers["location"]) == (303, "/sign-in")
    assert (await browser.get("/integrations")).status_code == 303


async def test_pages_forbid_framing_and_foreign_scripts() -> None:
    answer = await client(FakeApi()).get("/sign-in")
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert "<script" not in answer.text


def test_an_unknown_time_zone_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="not an IANA time zone"):
        Settings(time_zone="Mars/Olympus")


# Integrations: Connect and Reconnect start the platform's flow through auth-service and return
# to the page, which says what happened; Refresh now and Disconnect are CSRF-checked forms.


async def test_connect_sends_the_browser_to_the_flow_that_returns_here() -> None:
    api = FakeApi(accounts=[integration()])
    browser = await signed_in(api)
    page = await page_text(browser, "/integrations")
    for platform in ("Facebook", "Instagram", "WhatsApp", "TikTok"):
        assert f">Connect {platform}</a>" in page
    assert 'href="/integrations/connect/facebook">Reconnect' in page

    started = await browser.get("/integrations/connect/tiktok")
    assert started.status_code == 303
    link = urlsplit(started.headers["location"])
    assert (link.netloc, link.path) == ("auth.test", "/v1/oauth/tiktok/start")
    assert parse_qs(link.query)["back"] == ["http://console.test/integrations"]
    assert api.account_calls == [("connect", "tiktok")]
    assert (await browser.get("/integrations/connect/myspace")).status_code == 404


async def test_coming_back_from_a_flow_says_what_happened() -> None:
    browser = await signed_in(FakeApi(accounts=[integration()]))
    done = await page_text(
        browser, "/integrations?status=connected&provider=facebook&integrations=int_a,int_b"
    )
    assert "Facebook connected: 2 accounts." in done
    denied = await page_text(
        browser, "/integrations?status=error&provider=instagram&error=access_denied"
    )
    assert "Instagram was not connected: the permission was not granted" in denied
    odd = await page_text(browser, "/integrations?status=error&provider=x&error=<b>")
    assert "auth-service refused it (&lt;b&gt;)" in odd


async def test_refresh_and_disconnect_are_checked_forms_calling_auth_service() -> None:
    api = FakeApi(accounts=[integration()])
    browser = await signed_in(api)
    page = await page_text(browser, "/integrations")
    csrf = csrf_of(page)
    assert 'action="/integrations/int_fb/refresh"' in page
    assert 'action="/integrations/int_fb/disconnect"' in page

    forged = await browser.post("/integrations/int_fb/disconnect", data={"csrf": "forged"})
    assert forged.status_code == 403
    refreshed = await browser.post("/integrations/int_fb/refresh", data={"csrf": csrf})
    assert (refreshed.status_code, refreshed.headers["location"]) == (
        303,
        "/integrations?done=refresh",
    )
    assert "the account&#39;s token is renewed" in await page_text(
        browser, refreshed.headers["location"]
    )
    gone = await browser.post("/integrations/int_fb/disconnect", data={"csrf": csrf})
    assert gone.status_code == 303
    assert api.account_calls == [("refresh", "int_fb"), ("disconnect", "int_fb")]
    unknown = await browser.post("/integrations/int_fb/delete-everything", data={"csrf": csrf})
    assert unknown.status_code == 404


async def test_a_refusal_is_shown_on_the_page_with_the_apis_message() -> None:
    api = FakeApi(accounts=[integration(status="expired")])
    browser = await signed_in(api)
    page = await page_text(browser, "/integrations")
    assert 'action="/integrations/int_fb/refresh"' not in page  # nothing to refresh: reconnect
    assert 'href="/integrations/connect/facebook">Reconnect' in page
    api.refusal = ApiError(409, "integration int_fb is expired; reconnect it")
    answer = await browser.post("/integrations/int_fb/disconnect", data={"csrf": csrf_of(page)})
    assert answer.status_code == 409
    assert "auth-service did not disconnect the account (409)" in answer.text
    api.refusal = ApiError(
        400, "return_to: not a URL this installation lets a connection return to"
    )
    started = await browser.get("/integrations/connect/facebook")
    assert started.status_code == 400
    assert "did not start the connection (400): return_to" in started.text
