"""What every input from outside is checked for (issue 19, findings 4 and 10): text that can be
stored, times that can be converted, zone names from the zone database, request bodies that
refuse unknown fields at every depth, and the contract's flags and counts of the right type."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import Field, ValidationError

from herald.content import PostContent, TikTokOptions
from herald.events import PostSubmitted, SubmittedTarget
from herald.inputs import ApiBody, moment_problem, unstorable_text, zone_named

pytestmark = pytest.mark.unit


def test_every_string_herald_cannot_store_is_found_at_its_path_keys_included() -> None:
    raw = '{"a": ["ok", "\\ud800"], "\\udfff": 1, "b": {"c": "x\\udc00y", "d": "nul\\u0000"}}'
    assert sorted(unstorable_text(json.loads(raw)), key=str) == sorted(
        [("a", 1), ("\udfff",), ("b", "c"), ("b", "d")], key=str
    )


def test_the_search_for_surrogates_does_not_recurse() -> None:
    deep: Any = "\ud800"
    for _ in range(50_000):  # far past the interpreter's recursion limit
        deep = [deep]
    assert next(unstorable_text(deep)) == (0,) * 50_000


@pytest.mark.parametrize(
    ("moment", "fine"),
    [
        (datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))), False),
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), False),
        (datetime(1899, 12, 31, 23, 59), False),  # noqa: DTZ001 - a local time, as sent
        (datetime(3000, 1, 1, tzinfo=UTC), False),
        (datetime(1900, 1, 1, tzinfo=timezone(timedelta(hours=23, minutes=59))), True),
        (datetime(2999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-23))), True),
    ],
)
def test_times_are_within_years_that_every_conversion_can_hold(
    moment: datetime, fine: bool
) -> None:
    assert (moment_problem(moment) is None) is fine
    if fine:  # and then converting it, to UTC or to a zone, cannot overflow
        converted = moment.astimezone(UTC).astimezone(zone_named("Pacific/Kiritimati"))
        assert abs(converted.year - moment.year) <= 1


@pytest.mark.parametrize(
    "name", ["Europe", "America", "Etc", "", "../../etc/passwd", "/etc/localtime", "Europe/"]
)
def test_a_zone_is_a_name_the_zone_database_lists(name: str) -> None:
    assert zone_named(name) is None


def test_listed_zones_are_found() -> None:
    assert zone_named("Europe/Lisbon") is not None
    assert zone_named("UTC") is not None


class Inner(ApiBody):
    flag: bool = False


class Body(ApiBody):
    content: PostContent
    targets: list[SubmittedTarget] = Field(default_factory=list)
    inner: Inner = Field(default_factory=Inner)


def _errors(data: Any) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        Body.model_validate(data)
    return [(e["loc"], e["type"]) for e in caught.value.errors()]


def test_an_api_body_refuses_unknown_fields_inside_the_contracts_tolerant_models() -> None:
    found = _errors(
        {
            "content": {
                "text": "hi",
                "evil": 1,
                "media": [{"kind": "image", "url": "http://a/b", "x": 1}],
            },
            "targets": [{"integration_id": "i", "platform": "facebook", "evil": 2}],
            "inner": {"nope": True},
        }
    )
    assert sorted(found, key=str) == sorted(
        [
            (("content", "evil"), "extra_forbidden"),
            (("content", "media", 0, "x"), "extra_forbidden"),
            (("targets", 0, "evil"), "extra_forbidden"),
            (("inner", "nope"), "extra_forbidden"),
        ],
        key=str,
    )


def test_an_api_body_refuses_text_that_cannot_be_stored_at_its_path() -> None:
    found = _errors({"content": {"text": "\ud800"}, "\udfff": 1})
    assert (("content", "text"), "value_error") in found
    assert (("\\udfff",), "value_error") in found  # the path itself is printable


def test_an_api_body_built_in_python_is_an_ordinary_model() -> None:
    body = Body(content=PostContent(text="hi"))
    assert body.inner == Inner()


def test_the_contract_reads_unknown_fields_of_an_event_as_a_tolerant_reader() -> None:
    event = PostSubmitted.model_validate(
        {
            "business_id": "b",
            "idempotency_key": "k",
            "content": {"text": "hi", "added_later": 1},
            "targets": [{"integration_id": "i", "platform": "facebook", "also_later": 2}],
            "from_a_later_version": True,
        }
    )
    assert event.content.text == "hi"


def test_an_event_with_text_that_cannot_be_stored_is_invalid_where_it_is_read() -> None:
    with pytest.raises(ValidationError) as caught:
        PostSubmitted.model_validate(
            {
                "business_id": "b",
                "idempotency_key": "k\udc80",
                "content": {"text": "\ud800"},
                "targets": [{"integration_id": "i", "platform": "facebook"}],
            }
        )
    assert {e["loc"] for e in caught.value.errors()} == {("content", "text"), ("idempotency_key",)}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("disable_duet", "yes"),
        ("disable_duet", 1),
        ("photo_cover_index", "1"),
        ("photo_cover_index", 1.0),
        ("photo_cover_index", 2**53),
        ("video_cover_timestamp_ms", -1),
    ],
)
def test_flags_and_counts_are_json_booleans_and_integers(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        TikTokOptions.model_validate({"privacy_level": "SELF_ONLY", field: value})
    assert [e["loc"] for e in caught.value.errors()] == [(field,)]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e999"])
def test_numbers_are_finite(number: str) -> None:
    raw = f'{{"media": [{{"kind": "video", "url": "http://a/b.mp4", "duration_s": {number}}}]}}'
    with pytest.raises(ValidationError) as caught:
        PostContent.model_validate(json.loads(raw))
    assert [e["loc"] for e in caught.value.errors()] == [("media", 0, "duration_s")]
