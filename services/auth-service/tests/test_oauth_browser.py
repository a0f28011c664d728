"""Account-linking CSRF (issue 19, finding 3; RFC 9700 §2.1): a connection is bound to the browser
that opened its start link, and a callback from any other browser is refused before any token
call, whatever the platform's page said. Each "browser" here is an HTTP client with its own
cookie jar; the legitimate flow of all four platforms runs through `World.connect`
(`test_connect_flows.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import httpx
import pytest
from pymongo.asynchronous.database import AsyncDatabase

from auth_service.domain import browser_cookie_name, digest
from auth_service.testing import (
    Live,
    Sandbox,
    World,
    WorldFactory,
    callback_query,
    recorder,
    through_start_link,
)
from herald.mongo import Document

pytestmark = pytest.mark.connected


@pytest.fixture
async def other_browser(make_world: WorldFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A victim's browser: the same auth-service, its own (empty) cookie jar."""
    world = await make_world()
    transport = httpx.ASGITransport(app=world.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://auth.test") as browser:
        yield browser


async def start_link(world: World, provider: str) -> str:
    started = await world.client.get(f"/v1/oauth/{provider}/connect", headers=world.auth)
    assert started.status_code == 200, started.text
    link = str(started.json()["authorize_url"])
    assert link.startswith(f"http://auth.test/v1/oauth/{provider}/start?state=")
    return link


async def approved_by(sandbox: Sandbox, platform_url: httpx.URL, **who: str) -> dict[str, str]:
    """The platform's page approved (by whoever's browser shows it): the callback query."""
    page = await sandbox.http.get(platform_url.copy_merge_params(who), follow_redirects=False)
    assert page.status_code == 302, page.text
    return callback_query(page.headers["location"])


async def callback(
    browser: httpx.AsyncClient, provider: str, query: dict[str, str]
) -> httpx.Response:
    return await browser.get(
        f"/v1/oauth/{provider}/callback", params=query, headers={"Accept": "application/json"}
    )


async def test_a_platform_link_business_a_started_connects_nothing_in_a_victims_browser(
    make_world: WorldFactory,
    sandbox: Sandbox,
    other_browser: httpx.AsyncClient,
    mongo_db: AsyncDatabase[Document],
) -> None:
    """The attack: business A opens its start link, stops at the platform's page and sends
    that link to a victim, who approves with their own account. Before the fix the callback
    connected the victim's account to A."""
    attacker = await make_world()
    victim = await sandbox.admin("POST", "/tiktok/users", json={"username": "victim"})
    platform = await through_start_link(attacker.client, await start_link(attacker, "tiktok"))
    query = await approved_by(sandbox, platform, sandbox_user=victim["open_id"])
    calls = len(recorder(attacker.components).token_calls())

    refused = await callback(other_browser, "tiktok", query)

    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "oauth_cookie_missing"
    assert browser_cookie_name(digest(query["state"])) in refused.json()["message"]
    assert len(recorder(attacker.components).token_calls()) == calls, "a token call was made"
    assert await mongo_db["integrations"].count_documents({}) == 0
    # The state is spent: A's own browser cannot finish it either.
    again = await callback(attacker.client, "tiktok", query)
    assert again.json()["error"] == "invalid_state"


async def test_a_platform_link_never_opened_through_herald_is_refused(
    make_world: WorldFactory, sandbox: Sandbox, mongo_db: AsyncDatabase[Document]
) -> None:
    """Facebook takes no PKCE, so A can write the platform link from its start link's state by
    hand without opening it; nothing is bound, and the callback says what is missing."""
    attacker = await make_world()
    link = httpx.URL(await start_link(attacker, "facebook"))
    params = {
        "client_id": "100000000000001",
        "redirect_uri": "http://auth.test/v1/oauth/facebook/callback",
        "state": link.params["state"],
        "response_type": "code",
        "scope": "pages_show_list,pages_manage_posts",
    }
    handmade = httpx.URL(f"{sandbox.url}/www.facebook.com/v23.0/dialog/oauth?{urlencode(params)}")
    query = await approved_by(sandbox, handmade, sandbox_auto_approve="1")

    refused = await callback(attacker.client, "facebook", query)

    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "oauth_cookie_missing"
    assert "not started in a browser through Herald's start link" in refused.json()["message"]
    assert await mongo_db["integrations"].count_documents({}) == 0


async def test_a_start_link_binds_the_first_browser_only(
    make_world: WorldFactory, other_browser: httpx.AsyncClient
) -> None:
    world = await make_world()
    link = await start_link(world, "instagram")
    first = await world.client.get(link, follow_redirects=False)
    assert first.status_code == 302
    assert "set-cookie" in first.headers
    reopened = await world.client.get(link, follow_redirects=False)  # a reload: same browser
    assert reopened.status_code == 302
    assert "set-cookie" not in reopened.headers
    assert reopened.headers["location"] == first.headers["location"]

    elsewhere = await other_browser.get(link, headers={"Accept": "application/json"})

    assert elsewhere.status_code == 400
    assert elsewhere.json()["error"] == "start_link_used"
    assert "set-cookie" not in elsewhere.headers


async def test_a_forged_cookie_is_refused(
    make_world: WorldFactory, sandbox: Sandbox, other_browser: httpx.AsyncClient
) -> None:
    world = await make_world()
    platform = await through_start_link(world.client, await start_link(world, "whatsapp"))
    query = await approved_by(sandbox, platform)
    name = browser_cookie_name(digest(query["state"]))
    other_browser.cookies.set(name, "guessed", domain="auth.test")

    refused = await callback(other_browser, "whatsapp", query)

    assert (refused.status_code, refused.json()["error"]) == (400, "oauth_cookie_mismatch")


async def test_the_cookie_is_httponly_lax_scoped_short_lived_and_secure_over_https(
    make_world: WorldFactory,
) -> None:
    """Behind a path prefix (the chart's https://host/auth) the cookie is scoped under it."""
    world = await make_world(public_base_url="https://auth.test/auth")
    app = "https://auth.test/v1/oauth/tiktok"  # the ingress strips /auth on the way in
    started = await world.client.get(f"{app}/connect", headers=world.auth)
    link = httpx.URL(started.json()["authorize_url"])
    assert str(link).startswith("https://auth.test/auth/v1/oauth/tiktok/start?state=")
    opened = await world.client.get(
        f"{app}/start", params=dict(link.params), follow_redirects=False
    )

    header = opened.headers["set-cookie"]
    (morsel,) = SimpleCookie(header).values()
    assert morsel.key == browser_cookie_name(digest(link.params["state"]))
    assert morsel["path"] == "/auth/v1/oauth/tiktok/"
    assert morsel["httponly"] is True
    assert morsel["secure"] is True
    assert morsel["samesite"].lower() == "lax"
    assert 0 < int(morsel["max-age"]) <= 600
    assert "domain" not in header.lower()  # host-only


async def test_an_https_flow_completes_and_the_callback_forgets_the_cookie(
    make_world: WorldFactory,
) -> None:
    world = await make_world(public_base_url="https://auth.test")
    query = await world.authorize("tiktok")
    name = browser_cookie_name(digest(query["state"]))
    assert name in world.client.cookies  # sent back only over https: it is Secure

    done = await callback(world.client, "tiktok", query)

    assert done.status_code == 200, done.text
    assert f"{name}=" in done.headers["set-cookie"]
    assert "max-age=0" in done.headers["set-cookie"].lower()
    assert name not in world.client.cookies


async def test_on_loopback_http_the_cookie_is_not_secure(live: Live) -> None:
    """`make up` serves http://127.0.0.1: a Secure cookie would never come back there."""
    _, key = await live.business_with_key()
    started = await live.client.get(
        "/v1/oauth/tiktok/connect", headers={"Authorization": f"Bearer {key}"}
    )
    opened = await live.client.get(started.json()["authorize_url"], follow_redirects=False)
    (morsel,) = SimpleCookie(opened.headers["set-cookie"]).values()
    assert not morsel["secure"]
    assert morsel["httponly"] is True
