"""Graph rate-limit accounting and the headers that report it (platform-apis.md §5.3).

Calls made with user or app tokens count against the app's hourly budget (`X-App-Usage`); calls
with Page or business tokens and all Instagram and WhatsApp calls count against the business
object's budget (`X-Business-Use-Case-Usage`, keyed by the object id). Percentages are integers
that rise with use; at 100 the next call is throttled with the platform's code.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass

from platform_sandbox.graph_errors import GraphError
from platform_sandbox.ratelimit import RollingCount
from platform_sandbox.settings import MetaSettings

BUC = "x-business-use-case-usage"
HOUR = 3_600.0
DAY = 86_400.0


@dataclass(frozen=True)
class _Budget:
    window_s: float
    limit: int
    code: int
    message: str


@dataclass(frozen=True)
class Usage:
    headers: dict[str, str]
    throttle: GraphError | None


class UsageMeter:
    def __init__(self, settings: MetaSettings) -> None:
        self._budgets = {
            "app": _Budget(
                HOUR, settings.app_calls_per_hour, 4, "Application request limit reached"
            ),
            "pages": _Budget(
                DAY,
                settings.pages_calls_per_day,
                80001,
                "There have been too many calls to this Page account. Wait a bit and try again.",
            ),
            "instagram": _Budget(
                DAY,
                settings.instagram_calls_per_day,
                80002,
                "There have been too many calls to this Instagram account. "
                "Wait a bit and try again.",
            ),
            "whatsapp_business_management": _Budget(
                HOUR,
                settings.waba_calls_per_hour,
                80008,
                "There have been too many calls to this WhatsApp Business account. "
                "Wait a bit and try again.",
            ),
        }
        self._counts = {name: RollingCount(b.window_s) for name, b in self._budgets.items()}
        self._whatsapp = RollingCount(HOUR)

    def count(self, *, app_id: str, buc: tuple[str, str] | None, now: float) -> Usage:
        """Count one call; `buc` is (type, business object id) for business-use-case calls."""
        if buc is None:
            pct, throttle = self._add("app", app_id, now)
            body = {"call_count": pct, "total_cputime": pct, "total_time": pct}
            return Usage({"x-app-usage": json.dumps(body)}, throttle)
        kind, object_id = buc
        if kind == "whatsapp":
            # Cloud API messaging is limited by throughput (130429), not by this budget; the
            # header still reports it, as on Meta's /messages responses.
            calls = self._whatsapp.add(object_id, now=now)
            pct = min(100, calls // 1000)
            return Usage({BUC: _buc_json(object_id, kind, pct, 0)}, None)
        pct, throttle = self._add(kind, object_id, now)
        regain = self._regain_minutes(kind) if throttle else 0
        return Usage({BUC: _buc_json(object_id, kind, pct, regain)}, throttle)

    def _add(self, name: str, key: str, now: float) -> tuple[int, GraphError | None]:
        budget = self._budgets[name]
        counter = self._counts[name]
        before = counter.total(key, now=now)
        counter.add(key, now=now)
        pct = min(100, math.floor((before + 1) * 100 / max(1, budget.limit)))
        if before >= budget.limit:
            return 100, GraphError(budget.code, budget.message)
        return pct, None

    def _regain_minutes(self, name: str) -> int:
        return max(1, math.ceil(self._budgets[name].window_s / 60 / 60))


@functools.lru_cache(maxsize=4096)
def _buc_json(object_id: str, kind: str, pct: int, regain: int) -> str:
    """The header value for one business object; cached, as it changes only with a figure."""
    entry = {
        "type": kind,
        "call_count": pct,
        "total_cputime": pct,
        "total_time": pct,
        "estimated_time_to_regain_access": regain,
    }
    return json.dumps({object_id: [entry]})
