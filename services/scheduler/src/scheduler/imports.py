"""Reading a contact import (CSV or a JSON array) into rows that keep their line numbers, and
checking every row, so that each bad row is reported by line and reason while the good ones are
imported (docs/adr/0008-audiences-broadcasts-and-delivery-statuses.md).

A file that cannot be read as rows at all (not UTF-8, no header, no `phone` or `opted_in`
column, not a JSON array) raises `UnreadableFile` naming the line. Everything else is a
`RowProblem`: the line the row starts on, its position among the data rows, the field, a code
and a sentence.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any

from scheduler.contacts import ContactData, read_contact

REQUIRED_COLUMNS = {"phone": "missing_phone_column", "opted_in": "missing_opt_in_column"}
_WHITESPACE = " \t\r\n"


class UnreadableFile(Exception):
    def __init__(self, line: int, code: str, message: str) -> None:
        super().__init__(message)
        self.line, self.code, self.message = line, code, message


@dataclass(frozen=True)
class SourceRow:
    line: int
    values: dict[str, Any]
    problem: str | None = None  # structural: too many cells, not an object


@dataclass(frozen=True)
class RowProblem:
    line: int
    row: int
    field: str | None
    code: str
    message: str


@dataclass(frozen=True)
class Accepted:
    line: int
    row: int
    contact: ContactData


@dataclass
class ImportPlan:
    rows: int = 0
    accepted: list[Accepted] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def rejected_rows(self) -> int:
        return len({p.row for p in self.problems})


def parse(data: bytes, media_type: str, *, max_rows: int) -> list[SourceRow]:
    """Rows of a `text/csv` or `application/json` body."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UnreadableFile(line, "not_utf8", "The file is not UTF-8 text.") from exc
    rows = parse_json(text) if media_type == "application/json" else parse_csv(text)
    if len(rows) > max_rows:
        message = f"An import takes at most {max_rows} rows; this one has {len(rows)}. Split it."
        raise UnreadableFile(rows[max_rows].line, "too_many_rows", message)
    return rows


def parse_csv(text: str) -> list[SourceRow]:
    """Comma-, semicolon- or tab-separated, with a header row; quoted cells may span lines
    (a row's line is the one it starts on); blank lines are skipped."""
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = _header(reader)
    rows: list[SourceRow] = []
    previous_end = reader.line_num
    while (cells := _next(reader, previous_end + 1)) is not None:
        line, previous_end = previous_end + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        values = dict(zip(header, cells, strict=False))
        problem = None
        if len(cells) > len(header):
            problem = f"{len(cells)} cells, but the header names {len(header)} columns"
        rows.append(SourceRow(line, values, problem))
    return rows


def _next(reader: Iterator[list[str]], line: int) -> list[str] | None:
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        raise UnreadableFile(line, "invalid_csv", f"This line cannot be read: {exc}.") from exc


def _header(reader: Iterator[list[str]]) -> list[str]:
    try:
        header = [c.strip().lower() for c in next(reader)]
    except StopIteration:
        raise UnreadableFile(1, "empty", "The file is empty; it needs a header row.") from None
    except csv.Error as exc:
        raise UnreadableFile(1, "invalid_csv", f"The header cannot be read: {exc}.") from exc
    for column, code in REQUIRED_COLUMNS.items():
        if column not in header:
            message = f"The header has no {column} column (it has: {', '.join(header)})."
            raise UnreadableFile(1, code, message)
    repeated = sorted(c for c, n in Counter(header).items() if c and n > 1)
    if repeated:
        message = f"The header names {', '.join(repeated)} more than once."
        raise UnreadableFile(1, "duplicate_column", message)
    return header


def parse_json(text: str) -> list[SourceRow]:
    """A JSON array of objects; each row's line is where its object starts. Linear in the size
    of the text: lines are counted as the reading moves forward, never again from the start."""
    decoder = json.JSONDecoder()
    lines = _Lines(text)
    position = _skip(text, 0)
    if text[position : position + 1] != "[":
        raise UnreadableFile(lines.at(position), "not_an_array", "Send a JSON array of rows.")
    position = _skip(text, position + 1)
    rows: list[SourceRow] = []
    while text[position : position + 1] != "]":
        line = lines.at(position)
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            raise UnreadableFile(exc.lineno, "invalid_json", f"Invalid JSON: {exc.msg}.") from exc
        except RecursionError as exc:  # the decoder recurses per level of nesting
            message = "A row is nested too deeply; a row is an object of name → value."
            raise UnreadableFile(line, "too_deep", message) from exc
        rows.append(_json_row(line, value))
        position = _skip(text, position)
        if text[position : position + 1] == ",":
            position = _skip(text, position + 1)
        elif text[position : position + 1] != "]":
            raise UnreadableFile(lines.at(position), "invalid_json", "Expected , or ].")
    if text[_skip(text, position + 1) :]:
        raise UnreadableFile(lines.at(position), "invalid_json", "Text after the array.")
    return rows


class _Lines:
    """The line of a position in `text`, for positions that only move forward."""

    def __init__(self, text: str) -> None:
        self._text, self._position, self._line = text, 0, 1

    def at(self, position: int) -> int:
        self._line += self._text.count("\n", self._position, position)
        self._position = position
        return self._line


def _json_row(line: int, value: Any) -> SourceRow:
    # The body's documented schema is an array of objects: another element refuses the file
    # (422, naming the line), as a body its schema does not allow is refused everywhere.
    if not isinstance(value, dict):
        shown = "null" if value is None else type(value).__name__
        message = f"A row is an object of name → value, not {shown}."
        raise UnreadableFile(line, "row_not_an_object", message)
    values = {str(k).lower(): v for k, v in value.items() if k != "fields"}
    nested = value.get("fields", {})
    if not isinstance(nested, dict):
        return SourceRow(line, values, "fields is an object of name → text")
    values.update({str(k).lower(): v for k, v in nested.items()})
    return SourceRow(line, values)


def check_rows(rows: list[SourceRow], fields: Collection[str]) -> ImportPlan:
    """Every row read as a contact; a number that appears twice is accepted once (the first
    time) and the later rows are reported with the line of the first."""
    plan = ImportPlan(rows=len(rows))
    first_seen: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        if row.problem is not None:
            plan.problems.append(RowProblem(row.line, number, None, "malformed_row", row.problem))
            continue
        read = read_contact({k: v for k, v in row.values.items() if k}, fields)
        if isinstance(read, list):
            plan.problems.extend(
                RowProblem(row.line, number, p.field, p.code, p.message) for p in read
            )
            continue
        if read.phone in first_seen:
            message = f"{read.phone} is already on line {first_seen[read.phone]} of this file."
            plan.problems.append(RowProblem(row.line, number, "phone", "duplicate", message))
            continue
        first_seen[read.phone] = row.line
        plan.accepted.append(Accepted(row.line, number, read))
    return plan


def _skip(text: str, position: int) -> int:
    while position < len(text) and text[position] in _WHITESPACE:
        position += 1
    return position
