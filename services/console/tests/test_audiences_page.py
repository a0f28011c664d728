"""Audiences and broadcasts pages: audiences with their size and opted-in count, create (the
scheduler's 422 at its field), contacts page by page with their opt-in state, a CSV import's
row-by-row report, a bad file said plainly, a broadcast's progress polled until it ends, and a
viewer offered no form and refused a forced one; against fakes of the APIs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from console.app import create_app
from console.audiences_client import Audience, Contact, WhatsAppPost
from console.client import ApiError
from console.settings import Settings
from console.testing import KEY, FakeApi
from console.testing_audiences import FakeAudiences
from console.testing_people import FakePeople
from herald.events import Violation

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
PASSWORD = "a long enough password"


def audience(**changes: object) -> Audience:
    base: dict[str, object] = {
        "audience_id": "au_1",
        "name": "Lisbon regulars",
        "fields": ["city"],
        "contacts": 1200,
        "opted_in": 1150,
        "created_at": NOW - timedelta(days=2),
    }
    return Audience.model_validate(base | changes)


def contact(n: int, status: str = "subscribed") -> Contact:
    return Contact(
        contact_id=f"ct_{n}",
        phone=f"+35191234{n:04d}",
        name=f"Person {n}",
        opted_in=status != "not_opted_in",
        status=status,
        source="import",
        created_at=NOW,
    )


def post(status: str, *, due: datetime = NOW, counts: dict[str, Any] | None = None) -> WhatsAppPost:
    """A WhatsApp post broadcasting to au_1; `counts` (recipients, by_state, ...) if expanded."""
    target: dict[str, Any] = {
        "target_id": "tg_1",
        "state": "dispatched" if status == "publishing" else status,
        "due_at": due,
        "role": "broadcast",
        "broadcast": {
            "audience_id": "au_1",
            "batches": 2 if counts else None,
            "excluded": {"opted_out": 3} if counts else {},
        },
    }
    if counts:
        target["recipients"] = {"sent": 0, "delivered": 0, "read": 0, "failed": 0} | counts
    return WhatsAppPost.model_validate(
        {
            "post_id": "p_bc",
            "status": status,
            "created_at": NOW - timedelta(minutes=5),
            "due_at": due,
            "content": {},
            "targets": [target],
        }
    )


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


async def signed_in(audiences: FakeAudiences) -> httpx.AsyncClient:
    settings = Settings(time_zone="Europe/Berlin", secure_cookies=False, import_max_bytes=2048)
    app = create_app(settings, api=FakeApi(), audiences=audiences, now=lambda: NOW)
    browser = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console.test"
    )
    page = await browser.get("/sign-in")
    await browser.post("/sign-in", data={"api_key": KEY, "csrf": csrf_of(page.text)})
    return browser


async def test_audiences_show_size_and_opted_in_and_an_empty_page_says_what_to_do() -> None:
    fake = FakeAudiences(NOW)
    browser = await signed_in(fake)
    empty = await browser.get("/audiences")
    assert "No audiences yet" in empty.text
    assert "Create one below, then import its contacts" in empty.text
    fake.lists = {"au_1": audience()}
    html = (await browser.get("/audiences")).text
    assert '<a href="/audiences/au_1">Lisbon regulars</a>' in html
    assert "<dt>Contacts</dt><dd>1,200</dd>" in html
    assert "<dt>Opted in</dt><dd>1,150</dd>" in html
    assert 'aria-current="page">Audiences</a>' in html


async def test_creating_an_audience_opens_it_and_a_refusal_is_shown_at_its_field() -> None:
    fake = FakeAudiences(NOW)
    browser = await signed_in(fake)
    csrf = csrf_of((await browser.get("/audiences")).text)
    made = await browser.post(
        "/audiences", data={"csrf": csrf, "name": " Porto ", "fields": "city, shop"}
    )
    assert (made.status_code, made.headers["location"]) == (303, "/audiences/au_1?done=created")
    assert fake.created == [{"name": "Porto", "fields": ["city", "shop"]}]
    opened = await browser.get(made.headers["location"])
    assert "The audience is created: import its contacts below." in opened.text
    assert "No contacts yet: import a CSV file above." in opened.text

    fake.refusal = ApiError(
        422, "1 problem(s)", [Violation(path="fields[0]", message="lowercase only", code="x")]
    )
    refused = await browser.post("/audiences", data={"csrf": csrf, "name": "X", "fields": "City"})
    assert refused.status_code == 422
    assert 'aria-invalid="true" aria-describedby="err-fields"' in refused.text
    assert '<p class="field-error" id="err-fields">lowercase only</p>' in refused.text
    assert 'value="City"' in refused.text
    forged = await browser.post("/audiences", data={"csrf": "forged", "name": "X"})
    assert forged.status_code == 403


async def test_contacts_are_paged_with_their_opt_in_state() -> None:
    statuses = ["subscribed", "not_opted_in", "opted_out", "undeliverable"]
    fake = FakeAudiences(
        NOW,
        lists={"au_1": audience()},
        people={"au_1": [contact(n, statuses[n % 4]) for n in range(60)]},
    )
    browser = await signed_in(fake)
    first = await browser.get("/audiences/au_1")
    assert first.status_code == 200
    assert first.text.count("<tr><td>+351") == 50
    assert "<td>+351912340001</td><td>Person 1</td><td>Not opted in</td>" in first.text
    assert "<td>+351912340002</td><td>Person 2</td><td>Opted out</td>" in first.text
    assert "<td>+351912340003</td><td>Person 3</td><td>Undeliverable</td>" in first.text
    more = re.search(r'href="(/audiences/au_1\?cursor=[^"]+)">Next 50 contacts', first.text)
    assert more is not None
    rest = await browser.get(more.group(1))
    assert rest.text.count("<tr><td>+351") == 10
    assert "Next 50 contacts" not in rest.text
    assert 'href="/audiences/au_1">First contacts</a>' in rest.text
    assert (await browser.get("/audiences/au_404")).status_code == 404


async def test_a_csv_import_reports_each_rejected_row_and_a_bad_file_is_said_plainly() -> None:
    fake = FakeAudiences(NOW, lists={"au_1": audience(contacts=0, opted_in=0)})
    browser = await signed_in(fake)
    page = await browser.get("/audiences/au_1")
    assert 'enctype="multipart/form-data"' in page.text
    assert "At most 0.00195312 MiB" in page.text  # the limit, named (2,048 bytes here)
    csrf = csrf_of(page.text)
    rows = "phone,name,opted_in\n+351912340001,Ana,yes\n12345,Bea,yes\n+351912340003,Cai,no\n"
    answer = await browser.post(
        "/audiences/au_1/import",
        data={"csrf": csrf},
        files={"file": ("regulars.csv", rows.encode(), "text/csv")},
    )
    assert answer.status_code == 200
    assert fake.imports == [("au_1", rows.encode())]
    assert "Import of regulars.csv" in answer.text
    assert "2 of 3 rows imported; 1 row rejected." in answer.text
    row = '<td class="word">3</td><td class="word">2</td><td class="word">phone</td>'
    assert f"<tr>{row}<td>A phone number in E.164" in answer.text
    assert "<dt>Opted in</dt><dd>1</dd>" in answer.text  # the audience as it is now

    empty = await browser.post(
        "/audiences/au_1/import", data={"csrf": csrf}, files={"file": ("none.csv", b"", "text/csv")}
    )
    assert empty.status_code == 422
    assert "none.csv is empty" in empty.text
    assert 'aria-invalid="true"' in empty.text
    big = await browser.post(
        "/audiences/au_1/import",
        data={"csrf": csrf},
        files={"file": ("big.csv", b"phone,opted_in\n" + b"x" * 3000, "text/csv")},
    )
    assert big.status_code == 413
    assert "big.csv is larger than 0.00195312 MiB: split it into smaller files." in big.text
    unreadable = await browser.post(
        "/audiences/au_1/import",
        data={"csrf": csrf},
        files={"file": ("names.csv", b"name\nAna\n", "text/csv")},
    )
    assert unreadable.status_code == 422
    assert "could not read names.csv as CSV rows: line 1: no phone column" in unreadable.text
    assert len(fake.imports) == 2  # the empty and too-large files never reached the scheduler


async def test_a_running_broadcast_is_polled_until_it_ends() -> None:
    expanded: dict[str, Any] = {
        "recipients": 200,
        "by_state": {"pending": 150, "sent": 50},
        "sent": 50,
    }
    ended: dict[str, Any] = {
        "recipients": 200,
        "by_state": {"read": 120, "delivered": 40, "sent": 30, "failed": 10},
        "sent": 190,
        "delivered": 160,
        "read": 120,
        "failed": 10,
    }
    fake = FakeAudiences(NOW, lists={"au_1": audience()}, posts={"p_bc": post("scheduled")})
    accepted: dict[str, Any] = {
        "recipients": 200,
        "by_state": {"accepted": 190, "failed": 10},
        "failed": 10,
    }
    sent_only = {"recipients": 200, "by_state": {"sent": 190, "failed": 10}, "sent": 190}
    fake.reads["p_bc"] = [
        post("scheduled"),
        post("publishing", counts=expanded),
        post("published", counts=accepted),
        post("published", counts=sent_only),
        post("published", counts=ended),
        post("published", counts=ended, due=NOW - timedelta(minutes=11)),
    ]
    browser = await signed_in(fake)

    page = await browser.get("/broadcasts")
    assert '<a href="/audiences/au_1">Lisbon regulars</a>' in page.text
    assert 'hx-get="/broadcasts/p_bc/card" hx-trigger="every 3s"' in page.text
    assert "Reading the audience" in page.text
    assert '<script src="/static/vendor/htmx-2.0.11.min.js" defer></script>' in page.text

    sending = await browser.get("/broadcasts/p_bc/card")
    assert sending.text.lstrip().startswith('<li class="card" id="bc-p_bc"')
    assert 'hx-trigger="every 3s"' in sending.text
    assert '<progress max="200" value="50"' in sending.text
    assert "50 of 200 recipients handled (25%)" in sending.text
    assert "Left out when sent: Opted out 3." in sending.text

    settling = await browser.get("/broadcasts/p_bc/card")
    assert 'hx-trigger="every 3s"' in settling.text  # sent, its receipts still to come
    assert "Waiting for WhatsApp&#39;s receipts" in settling.text
    assert "Accepted by WhatsApp, no status yet</th><td>190</td>" in settling.text
    # Every one sent and none delivered yet, then some delivered and not yet read: their
    # receipts can still come, so the card is still polled (it once stopped here).
    for _ in range(2):
        receipts = await browser.get("/broadcasts/p_bc/card")
        assert 'hx-trigger="every 3s"' in receipts.text
        assert "Waiting for WhatsApp&#39;s receipts" in receipts.text

    done = await browser.get("/broadcasts/p_bc/card")
    assert "hx-get" not in done.text  # ended, 10 min on: the card no longer asks to be polled
    assert "Sent</p>" in done.text
    for step in (
        '<th scope="row">Sent</th><td>190</td><td>95% of recipients</td>',
        '<th scope="row">Delivered</th><td>160</td><td>84% of sent</td>',
        '<th scope="row">Read</th><td>120</td><td>75% of delivered</td>',
        '<th scope="row">Failed</th><td>10</td><td>5% of recipients</td>',
    ):
        assert step in done.text
    assert 'href="/posts/p_bc/analytics"' in done.text


async def test_broadcasts_empty_later_and_signed_out_polling() -> None:
    fake = FakeAudiences(NOW)
    browser = await signed_in(fake)
    assert "No broadcasts yet" in (await browser.get("/broadcasts")).text
    fake.posts = {"p_bc": post("scheduled", due=NOW + timedelta(days=1))}
    later = await browser.get("/broadcasts")
    assert "Scheduled for 2026-12-08 11:00 CET" in later.text
    assert "hx-get" not in later.text  # not due: nothing to poll
    stale = {"recipients": 5, "by_state": {"accepted": 5}}
    fake.posts = {"p_bc": post("published", due=NOW - timedelta(hours=1), counts=stale)}
    sent_long_ago = await browser.get("/broadcasts")
    assert "Accepted by WhatsApp, no status yet</th><td>5</td>" in sent_long_ago.text
    assert "hx-get" not in sent_long_ago.text  # receipts that never came are not awaited forever
    assert (await browser.get("/broadcasts/p_nope/card")).status_code == 404
    browser.cookies.clear()  # signed out, as when the session expires while polling
    signed_out = await browser.get("/broadcasts/p_bc/card")
    assert signed_out.headers["HX-Redirect"] == "/sign-in"


async def test_a_viewer_reads_audiences_and_broadcasts_but_cannot_write() -> None:
    people = FakePeople(NOW)
    people.add("vic@bakery.example", PASSWORD, "viewer", "Vic")
    fake = FakeAudiences(NOW, lists={"au_1": audience()}, people={"au_1": [contact(1)]})
    api = FakeApi()
    settings = Settings(time_zone="Europe/Berlin", secure_cookies=False)
    app = create_app(settings, api=api, people=people, audiences=fake, now=lambda: NOW)
    viewer = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c.test")
    form = await viewer.get("/sign-in")
    data = {"email": "vic@bakery.example", "password": PASSWORD, "csrf": csrf_of(form.text)}
    assert (await viewer.post("/sign-in", data=data)).status_code == 303
    fake.keys |= set(people.sessions)
    api.keys |= set(people.sessions)

    listing = await viewer.get("/audiences")
    assert "Lisbon regulars" in listing.text
    assert 'action="/audiences"' not in listing.text
    one = await viewer.get("/audiences/au_1")
    assert "+351912340001" in one.text
    assert "/import" not in one.text
    assert "No broadcasts yet" in (await viewer.get("/broadcasts")).text
    csrf = csrf_of(one.text)
    assert (await viewer.post("/audiences", data={"csrf": csrf, "name": "X"})).status_code == 403
    forced = await viewer.post(
        "/audiences/au_1/import",
        data={"csrf": csrf},
        files={"file": ("a.csv", b"phone,opted_in\n+351912340009,yes\n", "text/csv")},
    )
    assert forced.status_code == 403
    assert (fake.created, fake.imports) == ([], [])


async def test_a_file_far_over_the_limit_is_refused_before_it_is_read() -> None:
    fake = FakeAudiences(NOW, lists={"au_1": audience()})
    browser = await signed_in(fake)  # import_max_bytes=2048: bodies over 2 x 2048 + 64 KiB
    csrf = csrf_of((await browser.get("/audiences/au_1")).text)
    huge = await browser.post(
        "/audiences/au_1/import",
        data={"csrf": csrf},
        files={"file": ("huge.csv", b"x" * 200_000, "text/csv")},
    )
    assert huge.status_code == 413
    assert fake.imports == []
