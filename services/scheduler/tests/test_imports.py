"""Contact imports without infrastructure: CSV and JSON read into rows that keep their lines,
every kind of bad row reported by line, field and reason while the good rows are accepted, and
files that cannot be read as rows at all refused as a whole."""

from __future__ import annotations

import json

import pytest

from scheduler.contacts import ContactStatus, check_field_names, contact_status, normalize_phone
from scheduler.imports import SourceRow, UnreadableFile, check_rows, parse

pytestmark = pytest.mark.unit

FIELDS = ("city", "tier")

CSV = (
    "Phone,Name,Opted_In,Opted_In_At,City\n"  # line 1
    "+351 912 345 678,Ana Lima,yes,2026-05-01,Lisbon\n"  # 2 good (separators dropped)
    "12345,Bo,yes,,\n"  # 3 invalid phone
    "+351912345679,Cy,,,\n"  # 4 missing opt-in
    "+351912345678,Ana again,no,,\n"  # 5 duplicate of line 2
    ",Nobody,yes,,\n"  # 6 missing phone
    "+351912345680,Di,maybe,yesterday,\n"  # 7 invalid opt-in and invalid time
    '"+351912345681","Ed\nWard",true,,Porto\n'  # 8 good, a quoted name spanning lines 8-9
    "\n"  # 10 blank: skipped
    "+351912345682,Fa,0,,,extra\n"  # 11 more cells than columns
    "+351912345683,Gi,1,2026-05-01T10:00:00,\n"  # 12 a time without offset
    "+351912345684,Ho,1,2026-05-01 10:00,\n"  # 13 the same, with a space
)


def problems_by_line(data: bytes, media_type: str) -> dict[int, set[tuple[str | None, str]]]:
    plan = check_rows(parse(data, media_type, max_rows=1000), FIELDS)
    found: dict[int, set[tuple[str | None, str]]] = {}
    for p in plan.problems:
        found.setdefault(p.line, set()).add((p.field, p.code))
    return found


def test_csv_reports_every_bad_row_by_line_and_reason() -> None:
    plan = check_rows(parse(CSV.encode(), "text/csv", max_rows=1000), FIELDS)
    found = problems_by_line(CSV.encode(), "text/csv")
    assert found == {
        3: {("phone", "invalid_phone")},
        4: {("opted_in", "missing_opt_in")},
        5: {("phone", "duplicate")},
        6: {("phone", "missing_phone")},
        7: {("opted_in", "invalid_opt_in"), ("opted_in_at", "invalid_opted_in_at")},
        11: {(None, "malformed_row")},
        12: {("opted_in_at", "invalid_opted_in_at")},
        13: {("opted_in_at", "invalid_opted_in_at")},
    }
    assert plan.rows == 10
    assert plan.rejected_rows == 8
    accepted = {a.line: a.contact for a in plan.accepted}
    assert set(accepted) == {2, 8}
    assert accepted[2].phone == "+351912345678"
    assert accepted[2].fields == {"city": "Lisbon"}
    assert accepted[2].opted_in_at is not None
    assert accepted[8].name == "Ed\nWard"
    duplicate = next(p for p in plan.problems if p.code == "duplicate")
    assert "line 2" in duplicate.message


def test_an_unknown_column_rejects_the_rows_that_fill_it() -> None:
    data = b"phone;opted_in;shoe_size\n+351912345678;yes;\n+351912345679;yes;44\n"
    plan = check_rows(parse(data, "text/csv", max_rows=10), FIELDS)
    assert [a.line for a in plan.accepted] == [2]
    [problem] = plan.problems
    assert (problem.line, problem.field, problem.code) == (3, "shoe_size", "unknown_column")
    assert "city, tier" in problem.message


def test_json_rows_report_the_line_each_object_starts_on() -> None:
    rows = [
        {"phone": "+351912345678", "opted_in": True, "fields": {"city": "Porto"}},
        {"phone": "+351912345679", "opted_in": "yes", "tier": "gold"},
        {"phone": "+0123", "opted_in": True},
        {"phone": "+351912345680"},
        {"phone": "+351912345681", "opted_in": False, "colour": "blue"},
        {"phone": "+351912345678", "opted_in": True},
        {"phone": "+351912345682", "opted_in": True, "fields": ["a"]},
        {"phone": "+351912345683", "opted_in": True, "name": {"first": "Jo"}},
    ]
    text = "[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]"
    plan = check_rows(parse(text.encode(), "application/json", max_rows=100), FIELDS)
    found = problems_by_line(text.encode(), "application/json")
    assert found == {
        4: {("phone", "invalid_phone")},
        5: {("opted_in", "missing_opt_in")},
        6: {("colour", "unknown_column")},
        7: {("phone", "duplicate")},
        8: {(None, "malformed_row")},
        9: {("name", "invalid_value")},
    }
    assert [(a.line, a.contact.fields) for a in plan.accepted] == [
        (2, {"city": "Porto"}),
        (3, {"tier": "gold"}),
    ]
    assert [p.row for p in plan.problems][:2] == [3, 4]


@pytest.mark.parametrize(
    ("data", "media_type", "line", "code"),
    [
        (b"", "text/csv", 1, "empty"),
        (b"name,opted_in\nAna,yes\n", "text/csv", 1, "missing_phone_column"),
        (b"phone,name\n+351912345678,Ana\n", "text/csv", 1, "missing_opt_in_column"),
        (b"phone,opted_in,phone\n", "text/csv", 1, "duplicate_column"),
        (b"phone,opted_in\n\xff\xfe,yes\n", "text/csv", 2, "not_utf8"),
        (b'{"phone": "+351912345678"}', "application/json", 1, "not_an_array"),
        (b'[\n{"phone": 1},\n{"phone": \n', "application/json", 4, "invalid_json"),
        (b'[{"a": 1}] 3', "application/json", 1, "invalid_json"),
        # issue 23: the body's schema is an array of objects; another element refuses the file
        (b"[\n[null, null]\n]", "application/json", 2, "row_not_an_object"),
        (b'[{"phone": "1"},\n"text"]', "application/json", 2, "row_not_an_object"),
        (b"phone,opted_in\n" + b"+351912345678,yes\n" * 4, "text/csv", 5, "too_many_rows"),
        # issue 19: a row nested 50,000 deep raised RecursionError (a 500)
        (b'[\n{"phone": "+351912345678"},\n' + b"[" * 50_000, "application/json", 3, "too_deep"),
        (b"[" + b'{"a":' * 50_000, "application/json", 1, "too_deep"),
    ],
)
def test_a_file_that_is_not_rows_is_refused_naming_the_line(
    data: bytes, media_type: str, line: int, code: str
) -> None:
    with pytest.raises(UnreadableFile) as caught:
        parse(data, media_type, max_rows=3)
    assert (caught.value.line, caught.value.code) == (line, code)


@pytest.mark.parametrize(
    ("raw", "phone"),
    [
        ("+351 912-345 678", "+351912345678"),
        ("+1 (555) 123.4567", "+15551234567"),
        ("351912345678", None),
        ("+0351912345678", None),
        ("+12345", None),
        ("+1234567890123456", None),
        ("+35191234567a", None),
    ],
)
def test_phone_numbers_are_read_in_e164(raw: str, phone: str | None) -> None:
    assert normalize_phone(raw) == phone


def test_field_names_and_statuses() -> None:
    problems = check_field_names(["city", "City", "phone", "city"])
    assert [(p.field, p.code) for p in problems] == [
        ("fields[1]", "invalid_format"),
        ("fields[2]", "reserved"),
        ("fields[3]", "duplicate"),
    ]
    assert contact_status(True, set()) is ContactStatus.SUBSCRIBED
    assert contact_status(False, set()) is ContactStatus.NOT_OPTED_IN
    assert contact_status(True, {"undeliverable"}) is ContactStatus.UNDELIVERABLE
    assert contact_status(True, {"undeliverable", "opted_out"}) is ContactStatus.OPTED_OUT


def test_rows_keep_their_lines_in_a_large_json_import() -> None:
    """Lines are counted as the reading moves forward (the count from the start for every row
    made a 20,000-row import take seconds, issue 19)."""
    rows = [{"phone": f"+3519{n:08d}", "opted_in": True} for n in range(20_000)]
    text = "[\n" + ",\n\n".join(json.dumps(r) for r in rows) + "\n]"
    parsed = parse(text.encode(), "application/json", max_rows=20_000)
    assert [r.line for r in parsed[:3]] == [2, 4, 6]
    assert parsed[-1].line == 2 + 2 * 19_999


def test_a_header_naming_many_columns_is_read_once() -> None:
    header = ",".join(["phone", "opted_in", *(f"c{n}" for n in range(50_000)), "c7"])
    with pytest.raises(UnreadableFile) as caught:
        parse(f"{header}\n".encode(), "text/csv", max_rows=10)
    assert caught.value.code == "duplicate_column"
    assert "c7" in caught.value.message


@pytest.mark.parametrize(
    "moment", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00", "0001-01-01", "1899-12-31"]
)
def test_an_opt_in_time_out_of_range_is_refused_naming_the_field(moment: str) -> None:
    plan = check_rows(
        parse_one({"phone": "+351912345678", "opted_in": True, "opted_in_at": moment}), []
    )
    assert [(p.field, p.code) for p in plan.problems] == [("opted_in_at", "out_of_range")]


def parse_one(row: dict[str, object]) -> list[SourceRow]:
    return parse(json.dumps([row]).encode(), "application/json", max_rows=1)
