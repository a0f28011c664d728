"""Every example in `docs/` validates against its schema with format checking on (issue 23):
an integrator's validator checks `date-time` and the other formats, so an example that breaks
one teaches them a request Herald's own schema refuses. The `docs/events.md` example's
`publish_at` without an offset did, until the schema described the local form Herald accepts.

A JSON example in a Markdown page names its schema in a comment on the line before it:
`<!-- example: events/<type>.schema.json -->` (a file under `docs/`) or
`<!-- example: openapi <service> <METHOD> <path> <status> -->` (an answer of a service's API,
from the app's own OpenAPI document). An example without one fails here, naming where it is.
The `examples` inside the event schemas are checked against the part of the schema they sit in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from auth_service.app import create_app as auth_app
from auth_service.settings import Settings as AuthSettings
from herald.testkit.apps import unreachable
from scheduler.app import create_app as scheduler_app
from scheduler.settings import Settings as SchedulerSettings
from scheduler.testing import FakeIntegrations, FakeKeys

pytestmark = pytest.mark.unit

DOCS = Path(__file__).parents[2] / "docs"
DRAFT = "https://json-schema.org/draft/2020-12/schema"
FENCE = re.compile(r"^```json[ \t]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
MARKER = re.compile(r"<!--\s*example:\s*(.+?)\s*-->\s*$")
APPS: dict[str, Callable[[], Any]] = {
    "auth-service": lambda: auth_app(unreachable(AuthSettings)),
    "scheduler": lambda: scheduler_app(
        unreachable(SchedulerSettings), api_keys=FakeKeys(), integrations=FakeIntegrations()
    ),
}


def markdown_examples() -> Iterator[Any]:
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text()
        for block in FENCE.finditer(text):
            line = text.count("\n", 0, block.start()) + 1
            before = [s for s in text[: block.start()].splitlines()[-2:] if s.strip()]
            marker = MARKER.search(before[-1]) if before else None
            where = f"{page.relative_to(DOCS.parent)}:{line}"
            yield pytest.param(where, marker.group(1) if marker else None, block.group(1), id=where)


def schema_examples() -> Iterator[Any]:
    for path in sorted((DOCS / "events").glob("*.schema.json")):
        root = json.loads(path.read_text())
        for pointer, node in _with_examples(root, ""):
            part = {k: v for k, v in node.items() if k != "examples"}
            # The part alone, with the root's definitions its references point into.
            schema = {"$schema": DRAFT, "$defs": root.get("$defs", {}), "allOf": [part]}
            for index, example in enumerate(node["examples"]):
                where = f"{path.name}#{pointer}/examples/{index}"
                yield pytest.param(schema, example, id=where)


def _with_examples(node: Any, pointer: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if isinstance(node.get("examples"), list):
            yield pointer, node
        for key, value in node.items():
            if key != "examples":
                yield from _with_examples(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _with_examples(value, f"{pointer}/{index}")


@cache
def openapi(service: str) -> dict[str, Any]:
    document: dict[str, Any] = APPS[service]().openapi()
    return document


def schema_named(ref: str) -> dict[str, Any]:
    """The schema a marker names: a file under docs/, or an API answer's."""
    if not ref.startswith("openapi "):
        schema: dict[str, Any] = json.loads((DOCS / ref).read_text())
        return schema
    service, method, path, status = ref.split()[1:]
    document = openapi(service)
    operation = document["paths"][path][method.lower()]
    body = operation["responses"][status]["content"]["application/json"]["schema"]
    # OpenAPI 3.1 schemas are JSON Schema 2020-12; their references point into `components`.
    return {"$schema": DRAFT, "components": document.get("components", {}), "allOf": [body]}


def violations(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = jsonschema_rs.validator_for(schema, validate_formats=True)
    return [
        f"{'/'.join(map(str, error.instance_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(instance)
    ]


@pytest.mark.parametrize(("where", "ref", "text"), list(markdown_examples()))
def test_every_json_example_in_the_docs_names_its_schema_and_validates(
    where: str, ref: str | None, text: str
) -> None:
    assert ref is not None, (
        f"{where}: a JSON example without `<!-- example: <schema> -->` on the line before it "
        "(a file under docs/, or `openapi <service> <METHOD> <path> <status>`)"
    )
    assert violations(schema_named(ref), json.loads(text)) == [], where


@pytest.mark.parametrize(("schema", "example"), list(schema_examples()))
def test_every_example_in_the_event_schemas_validates(schema: dict[str, Any], example: Any) -> None:
    assert violations(schema, example) == []


def test_format_checking_is_on() -> None:
    """What the events.md example was: a date-time without an offset is not `date-time`."""
    moment = {"$schema": DRAFT, "type": "string", "format": "date-time"}
    assert violations(moment, "2026-12-01T09:00:00") != []
    assert violations(moment, "2026-12-01T09:00:00+00:00") == []
