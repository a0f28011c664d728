"""Compose's WhatsApp audience: a select of the business's audiences by name with their opted-in
counts (the scheduler's `GET /v1/audiences`, page by page), the choice kept through Check, the
live check and a refusal, and sent as the post's `audience_id`; a text field for the id when the
scheduler cannot list them. Against fakes of the APIs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from console.app import create_app
from console.audiences_client import Audience, AudiencePage
from console.client import ApiError, Integration, Post
from console.settings import Settings
from console.testing import KEY, FakeApi
from console.testing_audiences import FakeAudiences

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
WA = Integration.model_validate(
    {
        "integration_id": "int_wa",
        "platform": "whatsapp",
        "account_id": "+1 555 0100",
        "account_name": "+1 555 0100",
        "status": "active",
        "connected_at": NOW - timedelta(days=3),
    }
)
FB = WA.model_copy(update={"integration_id": "int_fb", "platform": "facebook"})
POSTED = Post.model_validate(
    {
        "post_id": "post_new",
        "status": "scheduled",
        "created_at": NOW,
        "due_at": NOW,
        "content": {"text": "Hi"},
        "targets": [],
    }
)
SELECT = 'id="o-int_wa-audience_id" name="o-int_wa-audience_id"'


def audience(audience_id: str, name: str, contacts: int, opted_in: int | None) -> Audience:
    return Audience(
        audience_id=audience_id,
        name=name,
        contacts=contacts,
        opted_in=opted_in,
        created_at=NOW,
    )


class PagedAudiences(FakeAudiences):
    """Answers one audience a page, as a scheduler with many would, or fails when told."""

    failure: ApiError | None = None

    async def audiences(self, api_key: str, *, cursor: str | None = None) -> AudiencePage:
        if self.failure is not None:
            raise self.failure
        items = list(self.lists.values())
        at = int(cursor or 0)
        more = str(at + 1) if at + 1 < len(items) else None
        return AudiencePage(items=items[at : at + 1], next_cursor=more)


def fake(*audiences: Audience) -> PagedAudiences:
    made = PagedAudiences(NOW)
    made.lists = {a.audience_id: a for a in audiences}
    return made


async def signed_in(
    audiences: FakeAudiences, accounts: list[Integration]
) -> tuple[httpx.AsyncClient, FakeApi]:
    api = FakeApi(accounts=accounts, posted=[POSTED])
    settings = Settings(time_zone="Europe/Berlin", secure_cookies=False)
    app = create_app(settings, api=api, audiences=audiences, now=lambda: NOW)
    browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c.test")
    page = await browser.get("/sign-in")
    await browser.post("/sign-in", data={"api_key": KEY, "csrf": csrf_of(page.text)})
    return browser, api


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def options_of(html: str) -> list[str]:
    select = html.split(f"<select {SELECT}", 1)[1].split("</select>", 1)[0]
    return [re.sub(r"\s+", " ", o).strip() for o in re.findall(r"<option[^>]*>([^<]*)<", select)]


async def test_the_audiences_are_offered_by_name_with_their_opted_in_counts() -> None:
    audiences = fake(
        audience("aud_2", "Wholesale buyers", 40, 12),
        audience("aud_1", "bread club", 3, 3),
        audience("aud_3", "Old list", 1, None),  # a scheduler that does not say opted-in
    )
    browser, _ = await signed_in(audiences, [WA])
    page = await browser.get("/compose")
    assert page.status_code == 200
    assert '<label for="o-int_wa-audience_id">Audience</label>' in page.text
    assert options_of(page.text) == [
        "None: send to the numbers below",
        "bread club (3 of 3 opted in)",
        "Old list (1 contact)",
        "Wholesale buyers (12 of 40 opted in)",
    ]  # every page read, sorted by name whatever its case


async def test_the_chosen_audience_is_kept_through_check_and_sent_by_its_id() -> None:
    browser, api = await signed_in(fake(audience("aud_1", "Bread club", 3, 2)), [WA])
    page = await browser.get("/compose")
    form = {
        "csrf": csrf_of(page.text),
        "target": "int_wa",
        "o-int_wa-template": "hello_world",
        "o-int_wa-language": "en_US",
        "o-int_wa-audience_id": "aud_1",
        "action": "check",
        "token": "tok-aud",
    }
    checked = await browser.post("/compose", data=form)  # the no-JS Check
    assert checked.status_code == 200, checked.text
    assert "No problems found" in checked.text
    assert '<option value="aud_1" selected>Bread club (2 of 3 opted in)</option>' in checked.text
    live = await browser.post("/compose/check", data=form)  # htmx, as the person chooses
    assert live.status_code == 200
    assert "No problems found" in live.text

    sent = await browser.post("/compose", data=form | {"action": "submit"})
    assert sent.status_code == 303
    [(body, _)] = api.submitted
    assert body["targets"][0]["options"]["audience_id"] == "aud_1"


async def test_a_refused_post_keeps_an_audience_that_is_gone_as_its_choice() -> None:
    browser, api = await signed_in(fake(audience("aud_1", "Bread club", 3, 2)), [WA])
    api.refusal = ApiError(422, "no audience aud_gone in this business")
    page = await browser.get("/compose")
    form = {
        "csrf": csrf_of(page.text),
        "target": "int_wa",
        "o-int_wa-template": "hello_world",
        "o-int_wa-language": "en_US",
        "o-int_wa-audience_id": "aud_gone",
        "action": "submit",
    }
    refused = await browser.post("/compose", data=form)
    assert refused.status_code == 422
    assert "no audience aud_gone in this business" in refused.text
    assert '<option value="aud_gone" selected>aud_gone (not among' in refused.text


async def test_no_audience_says_where_to_make_one_and_a_failure_falls_back_to_the_id() -> None:
    browser, _ = await signed_in(fake(), [WA])
    empty = await browser.get("/compose")
    assert options_of(empty.text) == ["None: send to the numbers below"]
    assert 'No audience yet: create one on the <a href="/audiences">Audiences page</a>' in (
        empty.text
    )

    failing = fake(audience("aud_1", "Bread club", 3, 2))
    failing.failure = ApiError(503, "the scheduler did not answer")
    browser, _ = await signed_in(failing, [WA])
    page = await browser.get("/compose")
    assert page.status_code == 200  # the rest of the form still works
    assert f"<select {SELECT}" not in page.text
    assert f'<input {SELECT} value=""' in page.text
    assert "Herald could not list the audiences just now" in page.text


async def test_without_a_whatsapp_account_the_audiences_are_not_asked_for() -> None:
    failing = fake()
    failing.failure = ApiError(500, "must not be called")
    browser, _ = await signed_in(failing, [FB])
    page = await browser.get("/compose")
    assert page.status_code == 200
    assert "audience_id" not in page.text
