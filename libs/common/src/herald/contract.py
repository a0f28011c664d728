"""Generate the published contract from the models: `docs/events/*.schema.json`.

`python -m herald.contract write` regenerates the files; `check` lists what drifted. A unit test
runs `check`, so a model change without regenerated schemas fails the build (`make contract`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from herald.events import EVENT_TYPES
from herald.notices import WEBHOOK_TYPES

# Every event on Kafka, and what businesses are told (their webhooks' `data`, ADR 0021).
DOCUMENTED = {**EVENT_TYPES, **{cls.event_type: cls for cls in WEBHOOK_TYPES.values()}}


def schemas() -> dict[str, dict[str, Any]]:
    """File name → JSON Schema (what a producer must send) of every event type."""
    out = {}
    for event_type, cls in sorted(DOCUMENTED.items()):
        schema = cls.model_json_schema(mode="validation")
        schema["$id"] = f"https://herald.dev/events/{event_type}.schema.json"
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["x-cloudevents-type"] = event_type
        out[f"{event_type}.schema.json"] = schema
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def default_dir() -> Path:
    for parent in Path(__file__).resolve().parents:
        if (parent / "docs").is_dir() and (parent / "libs").is_dir():
            return parent / "docs" / "events"
    msg = "cannot find the repository's docs/ folder"
    raise RuntimeError(msg)


def write(directory: Path) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    wanted = schemas()
    for name, schema in wanted.items():
        (directory / name).write_text(render(schema))
    stale = [p for p in directory.glob("*.schema.json") if p.name not in wanted]
    for path in stale:
        path.unlink()
    return sorted(wanted)


def check(directory: Path) -> list[str]:
    """Names of files that are missing, different or no longer generated."""
    wanted = schemas()
    drift = []
    for name, schema in wanted.items():
        path = directory / name
        if not path.exists() or path.read_text() != render(schema):
            drift.append(name)
    drift.extend(p.name for p in directory.glob("*.schema.json") if p.name not in wanted)
    return sorted(drift)


def main(argv: list[str]) -> int:
    directory = default_dir()
    if argv[:1] == ["write"]:
        names = write(directory)
        print(f"wrote {len(names)} schemas to {directory}")  # noqa: T201 - a command-line answer
        return 0
    drift = check(directory)
    for name in drift:
        print(f"out of date: {directory / name}")  # noqa: T201
    return 1 if drift else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
