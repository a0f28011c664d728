"""Graph's `fields` parameter: `id,name,instagram_business_account{id,username},likes.limit(0)`.

Only what a node can answer is returned; asking for a field the node type lacks is Graph's
error 100 "Tried accessing nonexisting field". Modifiers like `.limit(0)` are accepted and
ignored; braces select fields of a nested object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from platform_sandbox.graph_errors import GraphError, nonexisting_field

Selection = dict[str, "Selection | None"]


def parse_fields(text: str) -> Selection:
    compact = text.replace(" ", "")
    depth = 0
    for char in compact:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            break
    if depth != 0:
        raise GraphError(100, f"Syntax error in fields parameter: {text}")
    selection, _ = _parse(compact, 0)
    return selection


def _parse(text: str, pos: int) -> tuple[Selection, int]:
    selection: Selection = {}
    name = ""
    while pos < len(text):
        char = text[pos]
        if char == "{":
            nested, pos = _parse(text, pos + 1)
            selection[_base(name)] = nested
            name = ""
            continue  # the nested parse already moved past its closing brace
        if char == "}":
            _add(selection, name)
            return selection, pos + 1
        if char == ",":
            _add(selection, name)
            name = ""
        elif char == "(":
            end = text.find(")", pos)
            if end < 0:
                raise GraphError(100, f"Syntax error in fields parameter: {text}")
            name += text[pos : end + 1]
            pos = end
        else:
            name += char
        pos += 1
    _add(selection, name)
    return selection, pos


def _base(name: str) -> str:
    return name.split(".", 1)[0]


def _add(selection: Selection, name: str) -> None:
    if name:
        selection.setdefault(_base(name), None)


def select(
    available: Mapping[str, Any], fields: str | None, default: list[str], kind: str
) -> dict[str, Any]:
    """The fields asked for (or the node's defaults) out of everything the node can answer."""
    selection = parse_fields(fields) if fields else dict.fromkeys(default)
    return _apply(available, selection, kind)


def _apply(available: Mapping[str, Any], selection: Selection, kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, nested in selection.items():
        if name not in available:
            raise nonexisting_field(name, kind)
        value = available[name]
        if value is None:
            continue  # Graph leaves out fields that have no value
        if nested is not None and isinstance(value, Mapping):
            value = _apply(value, nested, kind)
        elif isinstance(value, Mapping) and "id" in value:
            value = {"id": value["id"]}  # an edge object without a selection is just its id
        elif nested is not None and isinstance(value, list):
            value = [_apply(v, nested, kind) if isinstance(v, Mapping) else v for v in value]
        out[name] = value
    if "id" in available and "id" not in out and available["id"] is not None:
        out["id"] = available["id"]  # Graph always answers with the node's id
    return out
