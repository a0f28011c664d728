"""Webhooks page: endpoints with their state, create (the secret shown once, the scheduler's 422
at its field), enable, disable, delete, rotate, the delivery log with redeliver; every form
CSRF-checked; against a fake of the APIs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from console.app import create_app
from console.client import ApiError
from console.settings import Settings
from console.testing import KEY, FakeApi
from console.webhooks_client import Delivery, Endpoint
from herald.events import Violation

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def endpoint(**changes: object) -> Endpoint:
    base: dict[str, object] = {
        "id": "we_1",
        "url": "https://hooks.bakery.example/herald",
        "event_types": ["post.failed"],
        "enabled": True,
        "created_at": NOW - timedelta(days=1),
    }
    return Endpoint.model_validate(base | changes)


async def signed_in(api: FakeApi) -> httpx.AsyncClient:
    settings = Settings(time_zone="Europe/Berlin", secure_cookies=False)
    transport = httpx.ASGITransport(app=create_app(settings, api=api, now=lambda: NOW))
    browser = httpx.AsyncClient(transport=transport, base_url="http://console.test")
    page = await browser.get("/sign-in")
    await browser.post("/sign-in", data={"api_key": KEY, "csrf": csrf_of(page.text)})
    return browser


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


async def test_endpoints_show_their_state_and_an_empty_page_says_what_to_do() -> None:
    api = FakeApi()
    browser = await signed_in(api)
    assert "No endpoints yet" in (await browser.get("/webhooks")).text
    api.hooks = {
        "we_1": endpoint(failing_since=NOW - timedelta(hours=2)),
        "we_2": endpoint(
            id="we_2",
            url="https://old.example/h",
            enabled=False,
            disabled_at=NOW,
            disabled_reason="failing for 5 days",
            event_types=[],
        ),
    }
    html = (await browser.get("/webhooks")).text
    assert "Enabled, failing since 2026-12-07 09:00 CET" in html
    assert "Disabled 2026-12-07 11:00 CET by Herald: failing for 5 days" in html
    assert "Every event" in html
    assert 'action="/webhooks/we_2/enable"' in html
    assert 'href="/webhooks/we_1/deliveries"' in html


async def test_a_new_endpoint_shows_its_secret_once() -> None:
    api = FakeApi()
    browser = await signed_in(api)
    page = await browser.get("/webhooks")
    form = {
        "csrf": csrf_of(page.text),
        "url": "https://hooks.bakery.example/herald",
        "event_types": ["post.published", "post.failed"],
    }
    created = await browser.post("/webhooks", data=form)
    assert created.status_code == 201
    assert 'value="whsec_new1"' in created.text
    assert "Herald shows it only this once" in created.text
    assert api.hook_calls == [
        ("create", "", {"url": form["url"], "event_types": ["post.published", "post.failed"]})
    ]
    assert "whsec_new1" not in (await browser.get("/webhooks")).text


async def test_the_schedulers_refusal_is_shown_at_the_url() -> None:
    refusal = ApiError(
        422, "1 problem(s)", [Violation(path="url", message="must be https", code="not_allowed")]
    )
    browser = await signed_in(FakeApi(refusal=refusal))
    page = await browser.get("/webhooks")
    answer = await browser.post(
        "/webhooks", data={"csrf": csrf_of(page.text), "url": "http://x.example"}
    )
    assert answer.status_code == 422
    assert 'aria-invalid="true" aria-describedby="err-url"' in answer.text
    assert '<p class="field-error" id="err-url">must be https</p>' in answer.text
    assert 'value="http://x.example"' in answer.text


async def test_disable_rotate_delete_and_a_forged_form() -> None:
    api = FakeApi(hooks={"we_1": endpoint()})
    browser = await signed_in(api)
    csrf = csrf_of((await browser.get("/webhooks")).text)
    assert (await browser.post("/webhooks/we_1/delete", data={"csrf": "x"})).status_code == 403
    off = await browser.post("/webhooks/we_1/disable", data={"csrf": csrf})
    assert (off.status_code, off.headers["location"]) == (303, "/webhooks?done=disable")
    assert (
        "Herald sends it nothing until it is enabled"
        in (await browser.get(off.headers["location"])).text
    )
    rotated = await browser.post("/webhooks/we_1/rotate", data={"csrf": csrf})
    assert 'value="whsec_rotated2"' in rotated.text
    gone = await browser.post("/webhooks/we_1/delete", data={"csrf": csrf})
    assert gone.status_code == 303
    assert [c[0] for c in api.hook_calls] == ["update", "rotate", "delete"]
    assert api.hook_calls[0][2] == {"enabled": False}
    assert (await browser.post("/webhooks/we_1/explode", data={"csrf": csrf})).status_code == 404


async def test_the_delivery_log_shows_attempts_and_redelivers() -> None:
    delivery = Delivery.model_validate(
        {
            "id": "we_1.msg_1",
            "type": "post.failed",
            "state": "failed",
            "attempts": 2,
            "created_at": NOW,
            "last_status": 500,
            "last_error": "HTTP 500",
            "attempt_log": [
                {"number": 1, "at": NOW, "status_code": 500, "error": None, "duration_ms": 41},
                {
                    "number": 2,
                    "at": NOW,
                    "status_code": None,
                    "error": "timeout",
                    "duration_ms": 5000,
                },
            ],
        }
    )
    api = FakeApi(hooks={"we_1": endpoint()}, sent={"we_1": [delivery]})
    browser = await signed_in(api)
    page = await browser.get("/webhooks/we_1/deliveries")
    assert page.status_code == 200
    assert "Last error (HTTP 500): HTTP 500" in page.text
    assert "<td>timeout</td>" in page.text
    answer = await browser.post(
        "/webhooks/we_1/deliveries/we_1.msg_1/redeliver", data={"csrf": csrf_of(page.text)}
    )
    assert answer.headers["location"] == "/webhooks/we_1/deliveries?done=redeliver"
    assert api.hook_calls == [("redeliver", "we_1.msg_1", None)]
    empty = await browser.get("/webhooks/we_2/deliveries")
    assert "Nothing sent yet" in empty.text
