"""Meta's rate-limit headers, read from every Graph answer (platform-apis.md §5.3).

- `X-App-Usage: {"call_count": 28, "total_time": 25, "total_cputime": 25}`: integer
  percentages of the app's budget; Meta throttles when any reaches 100.
- `X-Business-Use-Case-Usage: {"<object id>": [{"type": "pages", "call_count": ..., ...,
  "estimated_time_to_regain_access": <minutes>}]}`: the same per business object and use case.

A reading's `ratio` is its largest percentage as a fraction (0.28); `regain_s` is the object's
`estimated_time_to_regain_access` in seconds. Malformed headers are ignored: they report, they
never fail a call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

APP_USAGE = "x-app-usage"
BUC_USAGE = "x-business-use-case-usage"
_PERCENTAGES = ("call_count", "total_time", "total_cputime")


@dataclass(frozen=True)
class UsageReading:
    kind: str  # "app", or the business use case type: pages, instagram, whatsapp, ...
    ratio: float
    regain_s: float | None = None


def parse_usage(headers: Mapping[str, str]) -> list[UsageReading]:
    lowered = {k.lower(): v for k, v in headers.items()}
    readings: list[UsageReading] = []
    app = _json(lowered.get(APP_USAGE))
    if isinstance(app, Mapping):
        readings.append(UsageReading("app", _ratio(app)))
    buc = _json(lowered.get(BUC_USAGE))
    if isinstance(buc, Mapping):
        for entries in buc.values():
            readings.extend(_buc_entries(entries))
    return readings


def regain_after_s(readings: Iterable[UsageReading]) -> float | None:
    """When the most limited business object may be called again, if the platform said."""
    waits = [r.regain_s for r in readings if r.regain_s]
    return max(waits) if waits else None


def _buc_entries(entries: Any) -> list[UsageReading]:
    if not isinstance(entries, list):
        return []
    found = []
    for entry in entries:
        if isinstance(entry, Mapping) and isinstance(entry.get("type"), str):
            minutes = _number(entry.get("estimated_time_to_regain_access"))
            regain = minutes * 60 if minutes else None
            found.append(UsageReading(entry["type"], _ratio(entry), regain))
    return found


def _ratio(values: Mapping[str, Any]) -> float:
    numbers = [_number(values.get(name)) for name in _PERCENTAGES]
    return max(numbers) / 100


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value)


def _json(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
