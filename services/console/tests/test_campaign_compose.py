"""Compose as a recurring campaign: the recurrence fields → an RRULE, its words and its next
occurrences in the business's zone (09:00 stays 09:00 across a clock change); every problem at
its field, live and on submission; the campaign made through the scheduler's campaign route
once per form, and its 422 placed at the fields it names; against fakes of the APIs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from console import campaigns, compose, recurrence
from console.app import create_app
from console.client import ApiError, Integration
from console.recurrence import Rule
from console.settings import Settings
from console.testing import KEY, FakeApi
from console.testing_scheduler import FakeScheduler
from herald.events import Violation

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # a Monday, 11:00 in Berlin
ZONE = "Europe/Berlin"
BERLIN = ZoneInfo(ZONE)


def account(integration_id: str, platform: str) -> Integration:
    return Integration.model_validate(
        {
            "integration_id": integration_id,
            "platform": platform,
            "account_id": integration_id,
            "account_name": f"Demo {platform}",
            "status": "active",
            "connected_at": NOW - timedelta(days=3),
        }
    )


ACCOUNTS = [account("int_fb", "facebook"), account("int_tt", "tiktok")]


def wall(*parts: int) -> datetime:
    """A local wall-clock time, as a recurrence's start is."""
    return datetime(*parts)  # type: ignore[arg-type]  # noqa: DTZ001 - naive on purpose


def local(moments: list[datetime]) -> list[str]:
    return [f"{m.astimezone(BERLIN):%a %Y-%m-%d %H:%M %Z}" for m in moments]


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        (Rule("DAILY"), "FREQ=DAILY"),
        (Rule("WEEKLY", 2, (3, 0)), "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH"),
        (Rule("MONTHLY", count=6), "FREQ=MONTHLY;COUNT=6"),
        (
            Rule("WEEKLY", weekdays=(4,), until=wall(2027, 1, 31, 23, 59, 59)),
            "FREQ=WEEKLY;BYDAY=FR;UNTIL=20270131T235959",
        ),
    ],
)
def test_a_rule_is_written_as_the_rrule_the_scheduler_takes_and_read_back(
    rule: Rule, text: str
) -> None:
    assert rule.text() == text
    assert recurrence.parse(text) == rule.__class__(
        rule.frequency, rule.interval, tuple(sorted(rule.weekdays)), rule.count, rule.until
    )


@pytest.mark.parametrize(
    "text", ["FREQ=HOURLY", "FREQ=DAILY;BYHOUR=9,18", "FREQ=DAILY;BYDAY=MO", "FREQ=WEEKLY;COUNT=x"]
)
def test_a_rule_this_form_does_not_write_is_not_guessed_at(text: str) -> None:
    assert recurrence.parse(text) is None
    said = campaigns.describe(text, ZONE, wall(2026, 12, 8, 9, 0), NOW, NOW)
    assert said.words == f"{text} in {ZONE}, from 2026-12-08 09:00"
    assert said.next_at is None


def test_the_next_occurrences_keep_their_local_time_across_a_clock_change() -> None:
    """Weekly on Sunday at 09:00 from late March: CET, then CEST, 09:00 each time."""
    rule = Rule("WEEKLY", weekdays=(6,))
    found = recurrence.next_moments(rule, wall(2027, 3, 21, 9, 0), BERLIN, NOW, 3)
    assert local(found) == [
        "Sun 2027-03-21 09:00 CET",
        "Sun 2027-03-28 09:00 CEST",
        "Sun 2027-04-04 09:00 CEST",
    ]
    assert [m.hour for m in found] == [8, 7, 7]  # in UTC


def test_weeks_months_and_ends_expand_as_the_rule_says() -> None:
    start = wall(2026, 12, 8, 9, 30)  # a Tuesday
    every_other = Rule("WEEKLY", 2, (0, 3))  # Monday and Thursday, every other week
    assert local(recurrence.next_moments(every_other, start, BERLIN, NOW, 4)) == [
        "Thu 2026-12-10 09:30 CET",  # the Monday of the first week is before the start
        "Mon 2026-12-21 09:30 CET",
        "Thu 2026-12-24 09:30 CET",
        "Mon 2027-01-04 09:30 CET",
    ]
    month_ends = Rule("MONTHLY", count=3)  # the 31st: months without one are skipped
    assert local(recurrence.next_moments(month_ends, wall(2026, 12, 31, 8), BERLIN, NOW, 9)) == [
        "Thu 2026-12-31 08:00 CET",
        "Sun 2027-01-31 08:00 CET",
        "Wed 2027-03-31 08:00 CEST",
    ]
    until = Rule("DAILY", until=wall(2026, 12, 10, 23, 59, 59))
    assert len(recurrence.next_moments(until, start, BERLIN, NOW, 9)) == 3  # 8th, 9th, 10th
    assert recurrence.words(every_other, start) == (
        "Every 2 weeks on Monday and Thursday at 09:30, from 2026-12-08"
    )
    assert recurrence.words(month_ends, wall(2026, 12, 31, 8)) == (
        "Every month on day 31 at 08:00, from 2026-12-31, 3 times"
    )


def form(**fields: str | list[str]) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    for name, value in fields.items():
        items.extend((name, one) for one in ([value] if isinstance(value, str) else value))
    return items


GOOD: dict[str, str | list[str]] = {
    "campaign_name": "Saturday loaves",
    "rec_freq": "WEEKLY",
    "rec_interval": "1",
    "rec_day": ["5"],
    "rec_time": "09:00",
    "rec_start": "2026-12-08",
    "rec_end": "count",
    "rec_count": "4",
}


def test_a_good_recurrence_becomes_the_campaign_body_with_the_post_as_template() -> None:
    recurring = campaigns.read(form(**GOOD), NOW.date())
    checked = campaigns.check(recurring, BERLIN, NOW)
    assert checked.problems == []
    post = {"content": {"text": "Rye", "media": []}, "targets": [{"integration_id": "int_fb"}]}
    assert campaigns.body(post | {"campaign_id": "old"}, recurring, checked, ZONE) == {
        "name": "Saturday loaves",
        "recurrence": {
            "rule": "FREQ=WEEKLY;BYDAY=SA;COUNT=4",
            "timezone": ZONE,
            "starts_at": "2026-12-08T09:00:00",
        },
        "template": post,
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"campaign_name": " "}, "campaign_name", "Give the campaign a name"),
        ({"campaign_name": "x" * 201}, "campaign_name", "200 characters at most"),
        ({"rec_freq": "HOURLY"}, "rec_freq", "Choose daily, weekly or monthly."),
        ({"rec_interval": "0"}, "rec_interval", "Repeat every 1 to 99"),
        ({"rec_interval": "\N{SUPERSCRIPT TWO}"}, "rec_interval", "Repeat every 1 to 99"),
        ({"rec_day": ["8"]}, "rec_days", "Choose weekdays from Monday to Sunday."),
        ({"rec_time": "25:00"}, "rec_time", "hours and minutes"),
        ({"rec_start": "08.12.2026"}, "rec_start", "Give the first day as a date"),
        ({"rec_start": "3026-01-01"}, "rec_start", "between the years 1900 and 2999"),
        ({"rec_count": "0"}, "rec_count", "Give how many times: 1 to 1000."),
        ({"rec_end": "until", "rec_until": "2026-12-01"}, "rec_until", "comes before the first"),
        ({"rec_end": "until", "rec_until": ""}, "rec_until", "Give the last day as a date"),
        ({"rec_end": "soon"}, "rec_end", "Choose when the campaign ends"),
        (  # every occurrence has passed: the API's "no occurrence" in the form's words
            {"rec_start": "2026-11-01", "rec_count": "2"},
            "rec_count",
            "no occurrence from now on",
        ),
    ],
)
def test_each_problem_is_named_at_its_field(
    changes: dict[str, str | list[str]], field: str, message: str
) -> None:
    recurring = campaigns.read(form(**(GOOD | changes)), NOW.date())
    checked = campaigns.check(recurring, BERLIN, NOW)
    assert checked.rule is None
    fields = campaigns.by_field(checked.problems, compose.Draft())
    assert list(fields) == [field], fields
    assert message in fields[field][0]


def test_the_apis_paths_land_at_the_campaigns_fields_and_the_templates_at_composes() -> None:
    draft = compose.read_form([("target", "int_fb"), ("target", "int_tt")])
    assert campaigns.field_of("name", draft) == "campaign_name"
    assert campaigns.field_of("recurrence.rule", draft) == "recurrence"
    assert campaigns.field_of("recurrence.starts_at", draft) == "rec_start"
    assert campaigns.field_of("template.content.text", draft) == "text"
    path = "template.targets[1].options.privacy_level"
    assert campaigns.field_of(path, draft) == "o-int_tt-privacy_level"


async def signed_in(api: FakeApi, scheduler: FakeScheduler) -> httpx.AsyncClient:
    settings = Settings(time_zone=ZONE, secure_cookies=False)
    app = create_app(settings, api=api, scheduler=scheduler, now=lambda: NOW)
    browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://c.test")
    page = await browser.get("/sign-in")
    await browser.post("/sign-in", data={"api_key": KEY, "csrf": csrf_of(page.text)})
    return browser


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, html
    return found.group(1)


def posted(csrf: str, **fields: str | list[str]) -> dict[str, str | list[str]]:
    base: dict[str, str | list[str]] = {
        "csrf": csrf,
        "token": "tok1",
        "target": "int_fb",
        "text": "Saturday rye",
        "when": "campaign",
    }
    return base | GOOD | fields


async def test_a_campaign_with_a_problem_is_refused_at_its_field_then_made_once() -> None:
    scheduler = FakeScheduler(now=NOW)
    browser = await signed_in(FakeApi(accounts=ACCOUNTS), scheduler)
    page = await browser.get("/compose")
    assert 'id="when-campaign" name="when" value="campaign"' in page.text
    assert '<label for="rec_time">Time of day (Europe/Berlin)</label>' in page.text
    assert 'id="rec_start" name="rec_start" type="date" value="2026-12-07"' in page.text  # today
    csrf = csrf_of(page.text)

    refused = await browser.post("/compose", data=posted(csrf, campaign_name="", action="submit"))
    assert refused.status_code == 422
    assert (
        'id="campaign_name" name="campaign_name" value="" maxlength="200" aria-invalid="true"'
        in (refused.text)
    )
    assert '<a href="#campaign_name">Give the campaign a name' in refused.text
    assert scheduler.bodies == []  # nothing reaches the scheduler while a field is wrong

    made = await browser.post("/compose", data=posted(csrf, action="campaign"))
    assert made.status_code == 303
    assert made.headers["location"] == "/campaigns?done=created#campaign-c_1"
    [body] = scheduler.bodies
    assert body["recurrence"] == {
        "rule": "FREQ=WEEKLY;BYDAY=SA;COUNT=4",
        "timezone": ZONE,
        "starts_at": "2026-12-08T09:00:00",
    }
    assert body["template"]["targets"] == [{"integration_id": "int_fb", "platform": "facebook"}]
    assert body["template"]["content"]["text"] == "Saturday rye"
    again = await browser.post("/compose", data=posted(csrf, action="campaign"))
    assert again.headers["location"] == "/campaigns?done=created#campaign-c_1"
    assert len(scheduler.bodies) == 1  # a second click on the same form makes no second one


async def test_the_live_check_previews_the_next_occurrences_in_the_businesss_zone() -> None:
    browser = await signed_in(FakeApi(accounts=ACCOUNTS), FakeScheduler(now=NOW))
    csrf = csrf_of((await browser.get("/compose")).text)
    answer = await browser.post("/compose/check", data=posted(csrf))
    assert answer.status_code == 200
    assert 'id="occurrences" class="occurrences" hx-swap-oob="true"' in answer.text
    shown = re.findall(r"<li>(\w{3} \d{4}-\d\d-\d\d \d\d:\d\d \w+)</li>", answer.text)
    assert shown == [
        "Sat 2026-12-12 09:00 CET",
        "Sat 2026-12-19 09:00 CET",
        "Sat 2026-12-26 09:00 CET",
        "Sat 2027-01-02 09:00 CET",
    ]  # COUNT=4
    broken = await browser.post("/compose/check", data=posted(csrf, rec_interval="abc"))
    assert 'id="errs-rec_interval" hx-swap-oob="true"><p class="field-error">Repeat every' in (
        broken.text
    )
    assert "once the recurrence has no problem" in broken.text
    now_only = await browser.post("/compose/check", data=posted(csrf, when="now", rec_time=""))
    assert "rec_time" not in re.findall(r'href="#(\w+)"', now_only.text)  # not a campaign


async def test_the_schedulers_422_is_shown_at_the_fields_it_names() -> None:
    refusal = ApiError(
        422,
        "2 problem(s)",
        [
            Violation(path="recurrence.rule", code="out_of_range", message="Rule refused."),
            Violation(path="template.content.text", code="too_long", message="Text too long."),
        ],
    )
    scheduler = FakeScheduler(now=NOW, refusal=refusal)
    browser = await signed_in(FakeApi(accounts=ACCOUNTS), scheduler)
    csrf = csrf_of((await browser.get("/compose")).text)
    answer = await browser.post("/compose", data=posted(csrf, action="submit"))
    assert answer.status_code == 422
    assert '<a href="#recurrence">Rule refused.</a>' in answer.text
    assert '<a href="#text">Text too long.</a>' in answer.text
    assert scheduler.made == {}

    scheduler.refusal = ApiError(503, "scheduler did not answer")
    down = await browser.post("/compose", data=posted(csrf, action="submit"))
    assert down.status_code == 502
    assert "The scheduler did not take the campaign (503): scheduler did not answer" in down.text
