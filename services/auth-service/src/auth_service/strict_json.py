"""JSON and text read strictly, before anything is stored or looked up (issue 19, finding 4).

Python's `json` accepts what JSON (RFC 8259) does not have: `NaN`, `Infinity`, and numbers such
as `1e999` that overflow to infinity. Such a value reached validation, whose error echoed it,
and the echo could not be written as JSON: 500. Text with a lone surrogate (`"\\ud800"`, which
JSON can spell) cannot be encoded for MongoDB, and text with NUL cannot be stored by FerretDB's
PostgreSQL: 500 again. So what comes from outside is read here and refused, naming the field:

- a number that is not finite (`NaN`, `Infinity`, `-Infinity`, `1e999`);
- text (a value or a key) that is not valid Unicode or holds NUL;
- nesting deeper than `MAX_DEPTH`, a number with more digits than Python reads, bytes that are
  not UTF-8, and anything else that is not JSON.

Used for request bodies (`api.strict`), and for what platforms sign (TikTok webhook bodies, Meta
`signed_request` payloads) once the signature holds.
"""

from __future__ import annotations

import json
import math
from typing import Any

from auth_service.errors import AuthServiceError

MAX_DEPTH = 32
Path = tuple[str | int, ...]


class JsonRefused(AuthServiceError):
    code = "invalid_json"


class _NotFinite:
    """What the parser puts where a number is not finite, so the walk can say where it was."""

    def __init__(self, spelled: str) -> None:
        self.spelled = spelled


def _number(spelled: str) -> float | _NotFinite:
    value = float(spelled)
    return value if math.isfinite(value) else _NotFinite(spelled)


def parse_strict(raw: bytes, what: str = "the body") -> Any:
    """The JSON value of `raw`, or `JsonRefused` saying what is wrong and where."""
    try:
        text = raw.decode("utf-8")  # JSON between systems is UTF-8 (RFC 8259 §8.1)
    except UnicodeDecodeError:
        raise JsonRefused(f"{what} is not UTF-8 text") from None
    try:
        value = json.loads(text, parse_constant=_NotFinite, parse_float=_number)
    except RecursionError:
        raise JsonRefused(f"{what} is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # json.JSONDecodeError, and integers too long to read
        raise JsonRefused(f"{what} is not JSON: {exc}") from None
    problem = first_problem(value)
    if problem is not None:
        path, why = problem
        raise JsonRefused(f"{shown(path)}: {why}")
    return value


def first_problem(value: Any) -> tuple[Path, str] | None:
    """Where the first unusable value is, and why. Iterative: no depth can exhaust the stack."""
    stack: list[tuple[Path, Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if len(path) > MAX_DEPTH:
            return path[:MAX_DEPTH], f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, _NotFinite):
            return path, (
                f"{item.spelled} is not a finite number (JSON has no NaN or infinity; "
                "send a number within the range of a 64-bit float)"
            )
        if isinstance(item, str):
            why = text_problem(item)
            if why is not None:
                return path, why
        elif isinstance(item, dict):
            for key, inner in reversed(item.items()):
                if text_problem(key) is not None:
                    return (*path, printable(key)), f"the field name: {text_problem(key)}"
                stack.append(((*path, key), inner))
        elif isinstance(item, list):
            stack.extend(((*path, i), inner) for i, inner in reversed(list(enumerate(item))))
    return None


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored or looked up, or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "the text is not valid Unicode (it holds a lone surrogate such as \\ud800)"
    if "\x00" in text:
        return "the text holds a NUL character"
    return None


def printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def shown(path: Path) -> str:
    """`scopes[0]`, `a.b`; `body` for the whole value."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{printable(part)}"
    return out.lstrip(".") or "body"
