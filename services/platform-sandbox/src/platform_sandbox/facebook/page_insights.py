"""Page insights by day (platform-apis.md §1.3): `GET /{page-id}/insights?metric=&period=
&since=&until=`, with the metric names Graph still accepts (`page_impressions*` and
`page_fans*` were removed in 2025-2026: error 100).

One value per day whose end lies in `(since, until]` (default: the last two complete days), at
most 90 days; `week` and `days_28` add the days before. `page_follows` is the Page's follower
total at the end of the day; the others count what happened (herald's sandbox figures,
`platform_sandbox.account_stats`).
"""

from __future__ import annotations

from typing import Any

from platform_sandbox.account_stats import daily, day_end, total
from platform_sandbox.clock import iso
from platform_sandbox.facebook.insights import PAGE_METRICS
from platform_sandbox.graph_errors import GraphError

PERIOD_DAYS = {"day": 1, "week": 7, "days_28": 28}
TOTALS = frozenset({"page_follows"})
MAX_DAYS = 90
_SCALES = {
    "page_media_view": 5_000,
    "page_total_media_view_unique": 2_000,
    "page_post_engagements": 300,
    "page_views_total": 200,
}


def page_insights(
    page_id: str, names: list[str], period: str, days: list[int], followers: int
) -> dict[str, Any]:
    if period not in PERIOD_DAYS:
        raise GraphError(100, "period must be one of day, week, days_28")
    data = []
    for name in names:
        if name not in PAGE_METRICS:
            raise GraphError(100, "The value must be a valid insights metric")
        values = [
            {"value": _value(page_id, name, period, day, followers), "end_time": iso(day_end(day))}
            for day in days
        ]
        data.append(
            {
                "name": name,
                "period": period,
                "values": values,
                "title": PAGE_METRICS[name],
                "description": f"{PAGE_METRICS[name]} (platform sandbox figures)",
                "id": f"{page_id}/insights/{name}/{period}",
            }
        )
    return {"data": data, "paging": {"previous": "", "next": ""}}


def _value(page_id: str, name: str, period: str, day: int, followers: int) -> int:
    if name in TOTALS:
        return total(page_id, name, day, followers)
    scale = _SCALES.get(name, 1_000)
    return sum(
        daily(page_id, name, d, scale=scale) for d in range(day - PERIOD_DAYS[period] + 1, day + 1)
    )
