"""What every input from outside is checked for before Herald stores it or computes with it.

Each check closes a class of input, not one value (docs/adr/0016-bounded-inputs.md):

- **text** Herald can store: a string with a lone surrogate (`"\\ud800"`, which JSON can spell)
  cannot be encoded as UTF-8, so MongoDB would refuse it at insert time, and one with a NUL
  character cannot be stored by FerretDB's PostgreSQL (the store of tests and local runs); both
  are refused where they arrive, with their path (`unstorable_text`, `ApiBody`);
- **times** Herald can convert: years 1900 to 2999, so a conversion to UTC or to a time zone
  (offsets are under a day) never leaves the range `datetime` can hold (`moment_problem`);
- **time zones** by IANA name, checked against the names the zone database lists: `ZoneInfo`
  itself reads any file under its search path, so `"Europe"` (a directory) raised
  `IsADirectoryError` (`zone_named`);
- **request bodies** (`ApiBody`): unknown fields refused at every depth, also inside the event
  contract's models, which ignore unknown fields on Kafka (a tolerant reader, docs/events.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import cache
from typing import Any, Self
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationError,
    ValidationInfo,
    model_validator,
)

EARLIEST_YEAR, LATEST_YEAR = 1900, 2999
# What an id Herald made (p_…, au_…, int_…) looks like: a path parameter is one or not found.
ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"
MAX_INT = 2**53 - 1  # the largest integer every JSON reader and BSON's int64 carry exactly
Path = tuple[str | int, ...]


def unstorable_text(value: Any) -> Iterator[Path]:
    """Paths of the strings (values and keys) in a JSON-like `value` that Herald cannot store
    (`is_storable`). Iterative, so nesting as deep as a parser allowed cannot exhaust the stack
    here."""
    stack: list[tuple[Path, Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if not is_storable(item):
                yield path
        elif isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(key, str) and not is_storable(key):
                    yield (*path, key)
                stack.append(((*path, key), inner))
        elif isinstance(item, list | tuple):
            stack.extend(((*path, i), inner) for i, inner in enumerate(item))


def is_storable(text: str) -> bool:
    """Whether `text` can be encoded as UTF-8 (what MongoDB, Kafka and JSON answers need) and
    holds no NUL character (which PostgreSQL, under FerretDB, cannot store)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def moment_problem(moment: datetime) -> str | None:
    """Why Herald cannot work with `moment`, or None: its year must be 1900 to 2999."""
    if EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        return None
    return f"a time between the years {EARLIEST_YEAR} and {LATEST_YEAR}, not {moment.year}"


@cache
def zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_named(name: str) -> ZoneInfo | None:
    """The IANA time zone `name`, or None when the zone database lists no such zone."""
    if name not in zone_names():
        return None
    try:
        return ZoneInfo(name)
    except (OSError, ValueError):  # listed, yet unreadable: the same answer as unknown
        return None


TEXT_PROBLEM = (
    "text must be valid Unicode without NUL (no lone surrogate such as \\ud800, no \\x00)"
)


def text_errors(value: Any) -> ValidationError | None:
    """One pydantic error per string in `value` that cannot be stored, at its path, or None."""
    paths = sorted(unstorable_text(value), key=str)
    if not paths:
        return None
    return ValidationError.from_exception_data(
        "input",
        [
            {
                "type": "value_error",
                "loc": tuple(p if isinstance(p, int) else printable(p) for p in path),
                "input": "(unstorable text)",
                "ctx": {"error": TEXT_PROBLEM},
            }
            for path in paths
        ],
    )


def printable(text: str) -> str:
    """`text` with what cannot be stored written as escapes (`\\ud800`, `\\x00`), e.g. for a
    path or a message that repeats the input."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


_VALIDATING = "herald.inputs.strict"


class ApiBody(BaseModel):
    """The base of a REST request body: unknown fields are refused at every depth (with their
    path, e.g. `content.evil`, `targets[0].evil`), and so is text that cannot be stored.

    The event contract's models (`herald.content`, `herald.events`) ignore unknown fields, as a
    tolerant reader on Kafka should; a body of the API validates them with `extra="forbid"` for
    the whole tree, so a caller's typo is answered at once instead of dropped."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="wrap")
    @classmethod
    def _strict_tree(
        cls, value: Any, handler: ModelWrapValidatorHandler[Self], info: ValidationInfo
    ) -> Self:
        context = info.context if isinstance(info.context, dict) else {}
        if context.get(_VALIDATING):
            return handler(value)
        problems = text_errors(value)
        if problems is not None:
            raise problems
        # Checked once more with unknown fields forbidden in every nested model too; the value
        # itself comes from `handler`, which fills the instance `__init__` is building.
        cls.model_validate(value, extra="forbid", context={**context, _VALIDATING: True})
        return handler(value)
