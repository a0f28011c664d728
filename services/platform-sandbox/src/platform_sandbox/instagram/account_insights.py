"""Instagram account insights (`GET /{ig-user-id}/insights?metric=&period=day&metric_type=
&since=&until=`) with the metric names current since v22: `impressions` and the contact-button
metrics are gone (error 100).

Most account metrics answer only `metric_type=total_value` (the sum over the window); asking
them as a time series is error 100 naming them, as Graph does. `reach` answers both;
`follower_count` (new followers per day) only a time series. A window is at most 30 days;
without `since`, the last complete day (two for a time series).
"""

from __future__ import annotations

from typing import Any

from platform_sandbox.account_stats import daily, day_end, days_between, step
from platform_sandbox.clock import iso
from platform_sandbox.graph_errors import GraphError

MAX_DAYS = 30
SERIES = frozenset({"reach", "follower_count"})
TOTAL_VALUE = frozenset(
    {
        "reach",
        "views",
        "accounts_engaged",
        "total_interactions",
        "likes",
        "comments",
        "shares",
        "saves",
        "replies",
        "profile_links_taps",
        "website_clicks",
        "profile_views",
    }
)
_SCALES = {"views": 8_000, "reach": 3_000, "accounts_engaged": 400, "profile_views": 200}
_TITLES = {"follower_count": "Follower count", "accounts_engaged": "Accounts engaged"}


def account_insights(
    ig_user_id: str,
    names: list[str],
    params: dict[str, str | None],
    now: float,
) -> dict[str, Any]:
    if not names:
        raise GraphError(100, "The parameter metric is required")
    unknown = [n for n in names if n not in SERIES | TOTAL_VALUE]
    if unknown:
        allowed = ", ".join(sorted(SERIES | TOTAL_VALUE))
        raise GraphError(
            100, f"metric[{names.index(unknown[0])}] must be one of the following values: {allowed}"
        )
    if params.get("period") != "day":
        raise GraphError(100, "param period must be one of {day}")
    metric_type = params.get("metric_type") or "time_series"
    if metric_type not in ("time_series", "total_value"):
        raise GraphError(100, "param metric_type must be one of {time_series, total_value}")
    wrong = SERIES - TOTAL_VALUE if metric_type == "total_value" else TOTAL_VALUE - SERIES
    refused = [n for n in names if n in wrong]
    if refused and metric_type == "time_series":
        raise GraphError(
            100,
            f"The following metrics ({', '.join(refused)}) should be specified with parameter "
            "metric_type=total_value",
        )
    if refused:
        raise GraphError(
            100,
            f"The following metrics ({', '.join(refused)}) do not support metric_type=total_value",
        )
    default_days = 2 if metric_type == "time_series" else 1
    days = days_between(
        params.get("since"), params.get("until"), now, max_days=MAX_DAYS, default_days=default_days
    )
    return {"data": [_metric(ig_user_id, n, metric_type, days) for n in names], "paging": {}}


def _metric(ig_user_id: str, name: str, metric_type: str, days: list[int]) -> dict[str, Any]:
    title = _TITLES.get(name, name.replace("_", " ").capitalize())
    entry: dict[str, Any] = {
        "name": name,
        "period": "day",
        "title": title,
        "description": f"{title} (platform sandbox figures)",
        "id": f"{ig_user_id}/insights/{name}/day",
    }
    if metric_type == "total_value":
        entry["total_value"] = {"value": sum(_day(ig_user_id, name, d) for d in days)}
    else:
        entry["values"] = [
            {"value": _day(ig_user_id, name, d), "end_time": iso(day_end(d))} for d in days
        ]
    return entry


def _day(ig_user_id: str, name: str, day: int) -> int:
    if name == "follower_count":  # new followers that day: the step of the followers total
        return step(ig_user_id, "followers")
    return daily(ig_user_id, name, day, scale=_SCALES.get(name, 100))
