"""A connect may name where the person's browser returns when the flow ends (`return_to`): the
console's Integrations page. Only a URL the installation lists (HERALD_AUTH_OAUTH__RETURN_URLS)
or one below it at a path or query boundary; anything else is refused at connect, so
auth-service never becomes an open redirect."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from auth_service.returns import allowed_return
from auth_service.settings import Settings
from auth_service.testing import WorldFactory, callback_query, through_start_link

CONSOLE = "https://console.example/integrations"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        (CONSOLE, True),
        (f"{CONSOLE}?from=team", True),
        (f"{CONSOLE}/facebook", True),
        ("https://console.example/integrationsX", False),
        ("https://console.example/integrations.evil.example/", False),
        ("https://console.example.evil/integrations", False),
        ("https://evil.example/?u=https://console.example/integrations", False),
        (f"{CONSOLE}/ x", False),
        (f"{CONSOLE}\\@evil.example", False),
        (CONSOLE + "/" + "a" * 2100, False),
    ],
)
def test_only_a_listed_url_or_one_below_it_is_allowed(url: str, allowed: bool) -> None:
    assert allowed_return(url, (CONSOLE,)) is allowed
    assert allowed_return(url, ()) is False


@pytest.mark.unit
@pytest.mark.parametrize(
    "listed", ["console.example/integrations", "https://user@console.example/", "https://c/#x"]
)
def test_a_return_url_setting_that_is_not_a_plain_absolute_url_is_refused(listed: str) -> None:
    with pytest.raises(ValueError, match="return_urls"):
        Settings.model_validate({"oauth": {"return_urls": [listed]}})


@pytest.mark.connected
async def test_the_browser_returns_where_the_connect_asked_and_nowhere_else(
    make_world: WorldFactory,
) -> None:
    world = await make_world(oauth={"return_urls": [CONSOLE]})
    refused = await world.client.get(
        "/v1/oauth/facebook/connect",
        headers=world.auth,
        params={"return_to": "https://evil.example/integrations"},
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "return_to_not_allowed"
    assert refused.json()["message"].startswith("return_to")

    back = f"{CONSOLE}?from=test"
    started = await world.client.get(
        "/v1/oauth/facebook/connect", headers=world.auth, params={"return_to": back}
    )
    assert started.status_code == 200, started.text
    url = await through_start_link(world.client, started.json()["authorize_url"])
    page = await world.sandbox.http.get(url, follow_redirects=False)
    done = await world.client.get(
        "/v1/oauth/facebook/callback", params=callback_query(page.headers["location"])
    )
    assert done.status_code == 303, done.text
    location = urlsplit(done.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CONSOLE
    query = parse_qs(location.query)
    assert query["from"] == ["test"]
    assert query["status"] == ["connected"]
    assert query["provider"] == ["facebook"]
    listed = await world.client.get("/v1/integrations", headers=world.auth)
    ids = {i["integration_id"] for i in listed.json()["integrations"]}
    assert set(query["integrations"][0].split(",")) <= ids

    # A refused flow returns there too, saying why (the person denied access).
    again = await world.client.get(
        "/v1/oauth/facebook/connect", headers=world.auth, params={"return_to": CONSOLE}
    )
    url = await through_start_link(world.client, again.json()["authorize_url"])
    state = parse_qs(url.query.decode())["state"][0]
    denied = await world.client.get(
        "/v1/oauth/facebook/callback",
        params={"state": state, "error": "access_denied", "error_reason": "user_denied"},
    )
    assert denied.status_code == 303, denied.text
    assert parse_qs(urlsplit(denied.headers["location"]).query)["status"] == ["error"]
