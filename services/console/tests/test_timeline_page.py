"""A post's timeline (`/posts/{id}/timeline`): the scheduler's history in a person's words, in
the business's zone, with each target's account; a retry reads as its own round (asked for,
sent, published) after the failure it answers, with that failure's error and remedy."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from console import timeline
from console.app import create_app
from console.client import ApiError, HistoryItem, Post
from console.settings import Settings
from console.testing import KEY, FakeApi

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
POST = Post.model_validate(
    {
        "post_id": "p1",
        "status": "published",
        "created_at": NOW,
        "due_at": NOW,
        "content": {"text": "Cinnamon buns"},
        "targets": [
            {
                "target_id": "p1-0",
                "integration_id": "int_ig",
                "platform": "instagram",
                "state": "published",
                "attempts": 1,
                "due_at": NOW,
            }
        ],
    }
)
ERROR = {
    "category": "permanent",
    "code": "100",
    "message": "The media type is not supported",
    "remediation": "Use an image (JPEG) or an MP4/MOV video.",
}


def item(minutes: int, kind: str, target: str | None = "p1-0", **detail: object) -> HistoryItem:
    return HistoryItem(
        at=NOW + timedelta(minutes=minutes), kind=kind, target_id=target, detail=detail
    )


HISTORY = [
    item(0, "post.scheduled", None, due_at="2026-12-09T10:00:00Z"),
    item(1, "post.dispatched", epoch=1),
    item(2, "post.failed", error=ERROR, final=True),
    item(3, "post.retry_requested", epoch=2, previous_error=ERROR),
    item(4, "post.dispatched", epoch=2),
    item(5, "post.published", permalink="https://instagram.test/p/1"),
]


def test_each_entry_is_said_plainly_with_its_account() -> None:
    lines = timeline.lines(POST, HISTORY, BERLIN)
    assert [(line.account, line.what) for line in lines] == [
        ("", "Scheduled for 2026-12-09 11:00 CET"),
        ("Instagram", "Sent to the publisher (round 1)"),
        ("Instagram", "Failed"),
        ("Instagram", "Retry asked for (round 2)"),
        ("Instagram", "Sent to the publisher (round 2)"),
        ("Instagram", "Published"),
    ]
    assert lines[2].error == "Error 100: The media type is not supported"
    assert lines[2].remediation == "Use an image (JPEG) or an MP4/MOV video."
    assert lines[5].permalink == "https://instagram.test/p/1"
    assert lines[0].at == "2026-12-09 11:00:00 CET"
    moved = item(0, "post.rescheduled", epoch=2, to="2026-12-10T08:00:00Z", **{"from": "x"})
    assert timeline.lines(POST, [moved], BERLIN)[0].what == (
        "Moved from x to 2026-12-10 09:00 CET (round 2)"
    )
    assert timeline.lines(POST, [item(0, "post.something_new")], BERLIN)[0].what == (
        "Something new"
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


async def signed_in(api: FakeApi) -> httpx.AsyncClient:
    settings = Settings(time_zone="Europe/Berlin", secure_cookies=False)
    transport = httpx.ASGITransport(app=create_app(settings, api=api, now=lambda: NOW))
    browser = httpx.AsyncClient(transport=transport, base_url="http://console.test")
    page = await browser.get("/sign-in")
    await browser.post("/sign-in", data={"api_key": KEY, "csrf": csrf_of(page.text)})
    return browser


async def test_the_timeline_page_shows_the_retry_as_a_new_round() -> None:
    api = FakeApi(posted=[POST], histories={"p1": HISTORY})
    browser = await signed_in(api)
    calendar = await browser.get("/calendar?view=day&day=2026-12-09")
    assert 'href="/posts/p1/timeline"' in calendar.text
    page = await browser.get("/posts/p1/timeline")
    assert page.status_code == 200, page.text
    html = page.text
    assert "<h1>Timeline</h1>" in html
    assert "2026-12-09 11:02:00 CET</strong> · Instagram: Failed" in html
    assert (
        '<a href="https://instagram.test/p/1" rel="noopener noreferrer">View on Instagram' in html
    )
    assert "Error 100: The media type is not supported" in html
    assert "Instagram: Retry asked for (round 2)" in html
    assert "Instagram: Sent to the publisher (round 2)" in html
    assert html.index("round 2") > html.index("Error 100")
    assert 'href="/calendar?view=day&amp;day=2026-12-09#post-p1"' in html


async def test_an_unknown_post_or_a_silent_scheduler_is_said() -> None:
    api = FakeApi(posted=[POST])
    browser = await signed_in(api)
    empty = await browser.get("/posts/p1/timeline")
    assert "Nothing recorded yet" in empty.text
    missing = await browser.get("/posts/p9/timeline")
    assert missing.status_code == 404
    assert "no post p9" in missing.text
    assert (await browser.get("/posts/..%2F/timeline")).status_code == 404
    api.failure = ApiError(503, "scheduler did not answer")
    down = await browser.get("/posts/p1/timeline")
    assert down.status_code == 502
