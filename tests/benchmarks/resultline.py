"""The line every benchmark ends with: `result: key=value key=value ...` (issue 25).

A script names the keys it promises in a module-level `RESULT_KEYS: tuple[str, ...]` (a literal,
so that `result_keys` can read it without running anything), prints its figures however it
likes, and ends with `result_line(RESULT_KEYS, figures)`. A value is one token
(no spaces, no `=`): a number, a word, `-` for a figure the run could not measure, or several of
those joined by commas. `test_quick.py` runs every `bench_*.py --quick` and checks the last line
against the keys it reads from the script's source; figures themselves are never asserted.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

BENCHMARKS = Path(__file__).parent
SCRIPTS = sorted(BENCHMARKS.glob("bench_*.py"))
PREFIX = "result:"
KEY = re.compile(r"^[a-z][a-z0-9_]*$")
Figure = float | int | str | None | Sequence[float | int | str | None]


def result_line(keys: Sequence[str], figures: Mapping[str, Figure]) -> str:
    """The `result:` line with `figures` in the order of `keys`; refuses a key either lacks."""
    missing = [k for k in keys if k not in figures]
    unpromised = [k for k in figures if k not in keys]
    if missing or unpromised:
        msg = f"result keys: missing {missing}, not in RESULT_KEYS {unpromised}"
        raise ValueError(msg)
    bad = [k for k in keys if not KEY.match(k)]
    if bad:
        msg = f"result keys must be lower_snake_case words: {bad}"
        raise ValueError(msg)
    return " ".join([PREFIX, *(f"{k}={_token(figures[k])}" for k in keys)])


def _token(value: Figure) -> str:
    if isinstance(value, str):
        if not value or re.search(r"[\s=]", value):
            msg = f"a result value is one token without spaces or '=': {value!r}"
            raise ValueError(msg)
        return value
    if isinstance(value, Sequence):
        return ",".join(_token(v) for v in value) or "-"
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)


def parse(line: str) -> dict[str, str]:
    """key → value of a `result:` line; `ValueError` if it is not one."""
    if not line.startswith(PREFIX + " "):
        msg = f"not a result line: {line!r}"
        raise ValueError(msg)
    figures: dict[str, str] = {}
    for part in line.removeprefix(PREFIX).split():
        key, sep, value = part.partition("=")
        if not sep or not KEY.match(key) or not value or key in figures:
            msg = f"malformed or repeated figure {part!r} in {line!r}"
            raise ValueError(msg)
        figures[key] = value
    return figures


def problems(stdout: str, keys: Sequence[str]) -> list[str]:
    """What is wrong with a run's output against the keys its script promises (empty: fine)."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    found = [line for line in lines if line.startswith(PREFIX)]
    if not lines or not lines[-1].startswith(PREFIX):
        last = lines[-1] if lines else "(no output)"
        return [f"the last line is not a {PREFIX!r} line: {last!r}"]
    if len(found) != 1:
        return [f"{len(found)} {PREFIX!r} lines, expected exactly one"]
    try:
        figures = parse(lines[-1])
    except ValueError as exc:
        return [str(exc)]
    return [f"promised key {k!r} missing from {lines[-1]!r}" for k in keys if k not in figures]


def result_keys(script: Path) -> tuple[str, ...]:
    """The literal tuple a script assigns to `RESULT_KEYS` at module level, read from its source
    (importing it would pull in all its main needs; running it is what the quick test does)."""
    for node in ast.parse(script.read_text(), filename=str(script)).body:
        targets: list[ast.expr]
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "RESULT_KEYS" for t in targets):
            keys = ast.literal_eval(value)
            if not isinstance(keys, tuple) or not all(isinstance(k, str) for k in keys):
                msg = f"{script.name}: RESULT_KEYS must be a literal tuple of strings"
                raise TypeError(msg)
            return keys
    msg = f"{script.name} has no module-level RESULT_KEYS"
    raise LookupError(msg)
