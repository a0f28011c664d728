"""Compose: the form → the scheduler's body, the API's own rules placed at the fields they are
about, the previews cut where each platform's limit cuts, and the page's round trips (check,
submit, the scheduler's 422 at its fields) against a fake of the APIs."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from console import compose, preview
from console.app import create_app
from console.client import ApiError, Integration, Post
from console.settings import Settings
from console.testing import KEY, FakeApi
from herald.events import Violation
from herald.rules.common import count_utf16

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
ZONE = "Europe/Berlin"
TIKTOK_PRIVACY = "A TikTok post needs a privacy level: choose who can see it."


def account(integration_id: str, platform: str, name: str) -> Integration:
    return Integration.model_validate(
        {
            "integration_id": integration_id,
            "platform": platform,
            "account_id": name,
            "account_name": name,
            "status": "active",
            "connected_at": NOW - timedelta(days=3),
        }
    )


ACCOUNTS = [
    account("int_fb", "facebook", "Demo Bakery Page"),
    account("int_ig", "instagram", "demo.bakery"),
    account("int_tt", "tiktok", "@demobakery"),
    account("int_wa", "whatsapp", "+1 555 0100"),
]
POSTED = Post.model_validate(
    {
        "post_id": "post_new",
        "status": "scheduled",
        "created_at": NOW,
        "due_at": NOW + timedelta(days=1),
        "content": {"text": "Fresh rye"},
        "targets": [],
    }
)


def form(**fields: str | list[str]) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for name, value in fields.items():
        items.extend(
            (name.replace("__", "-"), one) for one in ([value] if isinstance(value, str) else value)
        )
    return items


def test_the_form_becomes_the_apis_body_with_each_platforms_options() -> None:
    draft = compose.read_form(
        form(
            text="Rye at noon",
            target=["int_ig", "int_tt", "int_wa"],
            media__0__url="https://cdn.example/1.jpg",
            media__2__url="https://cdn.example/2.jpg",
            **{
                "o-int_ig-kind": "carousel",
                "o-int_tt-privacy_level": "SELF_ONLY",
                "o-int_tt-disable_duet": "on",
                "o-int_wa-template": "order_update",
                "o-int_wa-language": "en_US",
                "o-int_wa-params": "Ada\n\n#1042\n",
                "o-int_wa-recipients": "+15551234567\n",
            },
            when="later",
            publish_at="2026-12-08T09:30",
            campaign_id="winter",
        )
    )
    body = compose.to_body(draft, ACCOUNTS, ZONE)
    assert body["content"] == {
        "text": "Rye at noon",
        "media": [
            {"kind": "image", "url": "https://cdn.example/1.jpg"},
            {"kind": "image", "url": "https://cdn.example/2.jpg"},
        ],
    }
    ig, tt, wa = body["targets"]
    assert ig == {
        "integration_id": "int_ig",
        "platform": "instagram",
        "options": {"platform": "instagram", "kind": "carousel"},
    }
    assert tt["options"] == {
        "platform": "tiktok",
        "privacy_level": "SELF_ONLY",
        "disable_comment": False,
        "disable_duet": True,
        "disable_stitch": False,
    }
    assert wa["options"]["template"] == {
        "name": "order_update",
        "language": "en_US",
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Ada"}, {"type": "text", "text": "#1042"}],
            }
        ],
    }
    assert wa["options"]["recipients"] == [{"recipient_id": "console-1", "to": "+15551234567"}]
    assert body["schedule"] == {"publish_at": "2026-12-08T09:30:00", "timezone": ZONE}
    assert body["campaign_id"] == "winter"


def test_every_violation_lands_at_its_field() -> None:
    draft = compose.read_form(
        form(
            text="x" * 2_201,
            target=["int_ig", "int_tt"],
            media__1__url="https://cdn.example/a.png",
            media__1__kind="image",
            **{"o-int_ig-kind": "carousel"},
        )
    )
    fields = compose.by_field(compose.check(draft, ACCOUNTS, ZONE, NOW), draft)
    assert (
        "Instagram captions can be at most 2,200 characters; this one has 2,201." in fields["text"]
    )
    # The carousel has one item; TikTok has no privacy level; the media sits in row 2 (index 1).
    assert any("carousel" in m.lower() for m in fields["media"] + fields.get("media-1-url", []))
    assert fields["o-int_tt-privacy_level"] == [TIKTOK_PRIVACY]
    assert compose.FORM not in fields


def test_the_schedule_and_the_accounts_are_checked_too() -> None:
    draft = compose.read_form(form(text="Hi", when="later", publish_at="2026-12-07T10:59"))
    fields = compose.by_field(compose.check(draft, ACCOUNTS, ZONE, NOW), draft)
    assert fields["targets"] == ["Choose an account."]
    # 10:59 in Berlin is 09:59 UTC, before NOW (10:00 UTC)
    assert fields["publish_at"] == ["This time has passed: choose a later one, or Now."]
    fine = compose.read_form(
        form(text="Hi", target="int_fb", when="later", publish_at="2026-12-07T11:01")
    )
    assert compose.check(fine, ACCOUNTS, ZONE, NOW) == []


def test_the_apis_paths_map_to_fields() -> None:
    draft = compose.read_form(form(target=["int_fb", "int_wa"], media__3__url="https://x.test/v"))
    assert compose.field_of("targets[1].options.template.language", draft) == "o-int_wa-language"
    assert compose.field_of("targets[1].options.recipients[0].to", draft) == "o-int_wa-recipients"
    assert compose.field_of("targets[0].content.media[0].mime_type", draft) == "media-3-url"
    assert compose.field_of("targets[0].integration_id", draft) == "t-int_fb"
    assert compose.field_of("schedule.publish_at", draft) == "publish_at"
    assert compose.field_of("idempotency_key", draft) == compose.FORM


def test_previews_cut_the_text_where_each_platform_does() -> None:
    emoji = "\N{BREAD}"  # outside the BMP: two UTF-16 units on TikTok, one character elsewhere
    text = "a" * 2_199 + emoji + "tail"
    draft = compose.read_form(
        form(
            text=text,
            target=["int_fb", "int_ig", "int_tt", "int_wa"],
            media__0__url="https://cdn.example/v.mp4",
            media__0__kind="video",
            **{"o-int_ig-kind": "reel", "o-int_tt-privacy_level": "FOLLOWER_OF_CREATOR"},
        )
    )
    fb, ig, tt, wa = preview.previews(draft, ACCOUNTS)
    assert (fb.shown, fb.cut) == (text, "")
    assert (ig.form, len(ig.shown), ig.cut) == ("Reel", 2_200, "tail")
    assert ig.shown.endswith(emoji)
    assert (tt.form, tt.shown, tt.cut) == ("Video", "a" * 2_199, emoji + "tail")
    assert tt.note == "Who can watch: Followers."
    assert (wa.limit, len(wa.shown)) == ("1,024 characters", 1_024)  # a media caption
    assert ig.media == [(1, "video", "https://cdn.example/v.mp4")]


def test_a_story_sends_no_caption_and_a_template_shows_its_parameters() -> None:
    draft = compose.read_form(
        form(
            text="Hello",
            target=["int_ig", "int_wa"],
            **{
                "o-int_ig-kind": "story",
                "o-int_wa-template": "order_update",
                "o-int_wa-language": "en_US",
                "o-int_wa-params": "Ada\n#1042",
            },
        )
    )
    ig, wa = preview.previews(draft, ACCOUNTS)
    assert (ig.shown, ig.note) == ("", "Stories have no caption: the text is not sent.")
    assert wa.note == "Template order_update (en_US) with {{1}} = Ada, {{2}} = #1042."


def test_cutting_never_splits_a_character() -> None:
    assert preview.cut_text("ab\N{BREAD}", 3, count_utf16) == ("ab", "\N{BREAD}")
    assert preview.cut_text("abc", 3) == ("abc", "")


async def signed_in(api: FakeApi, zone: str = ZONE) -> httpx.AsyncClient:
    settings = Settings(time_zone=zone, secure_cookies=False)
    transport = httpx.ASGITransport(app=create_app(settings, api=api, now=lambda: NOW))
    browser = httpx.AsyncClient(transport=transport, base_url="http://console.test")
    page = await browser.get("/sign-in")
    await browser.post("/sign-in", data={"api_key": KEY, "csrf": csrf_of(page.text)})
    return browser


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


async def test_compose_checks_then_schedules_then_shows_the_post() -> None:
    api = FakeApi(accounts=ACCOUNTS, posted=[POSTED])
    browser = await signed_in(api)
    page = await browser.get("/compose")
    assert page.status_code == 200
    assert '<label for="text">Text</label>' in page.text
    # An API key's business without a zone of its own: the console's default stands in.
    assert "so this time is read in Europe/Berlin, the console's default." in page.text
    fields = {"csrf": csrf_of(page.text), "target": "int_tt", "text": "Rye", "action": "submit"}
    refused = await browser.post("/compose", data=fields)
    assert refused.status_code == 422
    assert 'id="o-int_tt-privacy_level" name="o-int_tt-privacy_level" aria-invalid="true"' in (
        refused.text
    )
    assert f'<a href="#o-int_tt-privacy_level">{TIKTOK_PRIVACY}</a>' in refused.text
    assert api.submitted == []  # nothing reaches the scheduler while a rule is broken

    assert "A TikTok post needs one video or 1 to 35 photos." in refused.text
    fixed = fields | {
        "o-int_tt-privacy_level": "SELF_ONLY",
        "media-0-url": "https://cdn.example/rye.mp4",
        "media-0-kind": "video",
        "token": "tok1",
    }
    answer = await browser.post("/compose", data=fixed)
    assert answer.status_code == 303
    assert (
        answer.headers["location"] == "/calendar?view=day&day=2026-12-08&done=posted#post-post_new"
    )
    [(body, key)] = api.submitted
    assert key == "console:tok1"
    assert body["targets"][0]["options"]["privacy_level"] == "SELF_ONLY"


async def test_the_schedulers_422_is_shown_at_the_fields_it_names() -> None:
    refusal = ApiError(
        422,
        "1 problem(s) with the request",
        [
            Violation(
                path="targets[0].integration_id",
                code="not_connected",
                message="This account is not connected any more.",
            )
        ],
    )
    api = FakeApi(accounts=ACCOUNTS, posted=[POSTED], refusal=refusal)
    browser = await signed_in(api)
    page = await browser.get("/compose")
    answer = await browser.post(
        "/compose",
        data={"csrf": csrf_of(page.text), "target": "int_fb", "text": "Hi", "action": "submit"},
    )
    assert answer.status_code == 422
    assert '<a href="#t-int_fb">This account is not connected any more.</a>' in answer.text


async def test_a_check_without_problems_says_so_and_previews() -> None:
    browser = await signed_in(FakeApi(accounts=ACCOUNTS), zone="UTC")
    page = await browser.get("/compose")
    assert "This business has no time zone set" in page.text
    answer = await browser.post(
        "/compose",
        data={"csrf": csrf_of(page.text), "target": "int_fb", "text": "Hi", "action": "check"},
    )
    assert answer.status_code == 200
    assert "No problems found" in answer.text
    assert 'aria-label="Facebook preview"' in answer.text


async def test_compose_refuses_a_forged_form_and_says_when_no_account_can_post() -> None:
    gone = account("int_x", "facebook", "Old Page").model_copy(update={"status": "expired"})
    browser = await signed_in(FakeApi(accounts=[gone]))
    page = await browser.get("/compose")
    assert "No account to post to" in page.text
    forged = await browser.post("/compose", data={"csrf": "forged", "action": "submit"})
    assert forged.status_code == 403


async def test_the_live_check_answers_the_summary_every_fields_messages_and_the_previews() -> None:
    api = FakeApi(accounts=ACCOUNTS)
    browser = await signed_in(api)
    page = await browser.get("/compose")
    assert '<script src="/static/vendor/htmx-2.0.11.min.js" defer></script>' in page.text
    assert 'hx-post="/compose/check"' in page.text
    fields = {"csrf": csrf_of(page.text), "target": "int_tt", "text": "Rye"}
    live = await browser.post("/compose/check", data=fields)
    assert live.status_code == 200
    assert "<html" not in live.text  # a fragment
    assert "2 problems to fix" in live.text
    assert 'role="alert"' not in live.text  # polite while typing: #live-check is a status
    field = (
        '<div class="errs" id="errs-o-int_tt-privacy_level" hx-swap-oob="true">'
        f'<p class="field-error">{TIKTOK_PRIVACY}</p></div>'
    )
    assert field in live.text
    # every field's container comes back, so a fixed field's message goes away
    assert '<div class="errs" id="errs-o-int_wa-recipients" hx-swap-oob="true"></div>' in live.text
    assert 'id="previews" aria-labelledby="preview-title" hx-swap-oob="true"' in live.text
    assert api.submitted == []
    forged = await browser.post("/compose/check", data=fields | {"csrf": "forged"})
    assert forged.status_code == 403


def test_the_vendored_htmx_is_the_one_its_readme_names() -> None:
    vendor = Path(compose.__file__).parent / "static" / "vendor"
    digest = hashlib.sha256((vendor / "htmx-2.0.11.min.js").read_bytes()).hexdigest()
    assert f"`{digest}`" in (vendor / "README.md").read_text()
    assert (vendor / "htmx-2.0.11.LICENSE").read_text().startswith("Zero-Clause BSD")
