"""A viewer (ADR 0024) reads Compose, Calendar and Webhooks but is offered no form that
writes, and a write posted anyway is refused before it reaches the scheduler."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from console.app import create_app
from console.client import Post
from console.settings import Settings
from console.testing import FakeApi
from console.testing_people import FakePeople
from console.webhooks_client import Endpoint

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
PASSWORD = "a long enough password"
FAILED = Post.model_validate(
    {
        "post_id": "p1",
        "status": "failed",
        "created_at": NOW,
        "due_at": NOW,
        "content": {"text": "Rye"},
        "targets": [
            {
                "target_id": "t1",
                "integration_id": "int_fb",
                "platform": "facebook",
                "state": "failed",
                "attempts": 3,
                "due_at": NOW,
            }
        ],
    }
)
HOOK = Endpoint.model_validate(
    {
        "id": "we_1",
        "url": "https://hooks.example/h",
        "event_types": [],
        "enabled": True,
        "created_at": NOW - timedelta(days=1),
    }
)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


async def test_a_viewer_is_offered_no_write_and_a_forced_one_is_refused() -> None:
    people = FakePeople(NOW)
    people.add("vic@bakery.example", PASSWORD, "viewer", "Vic")
    api = FakeApi(posted=[FAILED], hooks={"we_1": HOOK})
    settings = Settings(time_zone="Europe/Berlin", secure_cookies=False)
    app = create_app(settings, api=api, people=people, now=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    viewer = httpx.AsyncClient(transport=transport, base_url="http://console.test")
    form = await viewer.get("/sign-in")
    data = {"email": "vic@bakery.example", "password": PASSWORD, "csrf": csrf_of(form.text)}
    assert (await viewer.post("/sign-in", data=data)).status_code == 303
    api.keys |= set(people.sessions)  # the APIs take the viewer's session (they refuse writes)

    calendar = await viewer.get("/calendar?day=2026-12-09")
    assert "Facebook · int_fb: Failed" in calendar.text
    assert 'action="/posts/p1/retry"' not in calendar.text
    compose = await viewer.get("/compose")
    assert compose.status_code == 403
    assert "Your role can read, not post" in compose.text
    accounts = await viewer.get("/integrations")
    assert "/integrations/connect/" not in accounts.text
    assert (await viewer.get("/integrations/connect/facebook")).status_code == 403
    hooks = await viewer.get("/webhooks")
    assert "https://hooks.example/h" in hooks.text
    assert 'action="/webhooks' not in hooks.text

    csrf = csrf_of(calendar.text)
    for path, fields in (
        ("/posts/p1/retry", {}),
        ("/compose", {"action": "submit", "target": "int_fb", "text": "Hi"}),
        ("/webhooks", {"url": "https://evil.example/h"}),
        ("/webhooks/we_1/delete", {}),
        ("/webhooks/we_1/deliveries/d1/redeliver", {}),
        ("/integrations/int_fb/refresh", {}),
        ("/integrations/int_fb/disconnect", {}),
    ):
        answer = await viewer.post(path, data={"csrf": csrf, **fields})
        assert answer.status_code == 403, path
    assert (api.submitted, api.actions, api.hook_calls, api.account_calls) == ([], [], [], [])
