"""The checked-in JSON Schemas are exactly what the models generate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from herald.contract import DOCUMENTED, check, default_dir, schemas, write
from herald.events import EVENT_TYPES
from herald.notices import WEBHOOK_TYPES

pytestmark = pytest.mark.unit


def test_checked_in_schemas_match_the_models() -> None:
    drift = check(default_dir())
    assert drift == [], f"docs/events is out of date for {drift}: run `make contract`"


def test_every_event_type_has_a_schema_naming_its_type() -> None:
    generated = schemas()
    assert len(generated) == len(DOCUMENTED)
    assert set(EVENT_TYPES) < set(DOCUMENTED)  # and what businesses are told
    assert {cls.event_type for cls in WEBHOOK_TYPES.values()} < set(DOCUMENTED)
    for event_type in DOCUMENTED:
        schema = generated[f"{event_type}.schema.json"]
        assert schema["x-cloudevents-type"] == event_type
        assert schema["type"] == "object"


def test_a_changed_model_is_detected_as_drift(tmp_path: Path) -> None:
    write(tmp_path)
    path = tmp_path / "herald.post.published.v1.schema.json"
    schema = json.loads(path.read_text())
    del schema["properties"]["permalink"]
    path.write_text(json.dumps(schema))
    (tmp_path / "herald.post.exploded.v1.schema.json").write_text("{}")

    assert check(tmp_path) == [
        "herald.post.exploded.v1.schema.json",
        "herald.post.published.v1.schema.json",
    ]
