"""Post and Page insights with the metric names Graph still accepts (platform-apis.md §1.3).

The impressions family (`post_impressions*`, `page_impressions*`, `page_fans`, ...) was removed
in 2025; asking for it is error 100 "The value must be a valid insights metric", as on Graph.
"""

from __future__ import annotations

from typing import Any

from platform_sandbox.clock import iso
from platform_sandbox.graph_errors import GraphError
from platform_sandbox.stats import figure

POST_METRICS = {
    "post_media_view": "Media views",
    "post_total_media_view_unique": "Unique media viewers",
    "post_reactions_like_total": "Like reactions",
    "post_reactions_by_type_total": "Reactions by type",
    "post_clicks": "Post clicks",
    "post_clicks_by_type": "Post clicks by type",
    "post_activity_by_action_type": "Post activity by action type",
    "post_activity_by_action_type_unique": "Unique post activity by action type",
    "post_video_views": "Video views",
}
PAGE_METRICS = {
    "page_media_view": "Media views",
    "page_total_media_view_unique": "Unique media viewers",
    "page_follows": "Followers",
    "page_post_engagements": "Post engagements",
    "page_views_total": "Page views",
}
_BREAKDOWNS = {
    "post_reactions_by_type_total": ("like", "love", "wow", "haha", "sorry", "anger"),
    "post_clicks_by_type": ("link clicks", "other clicks", "photo view"),
    "post_activity_by_action_type": ("share", "like", "comment"),
    "post_activity_by_action_type_unique": ("share", "like", "comment"),
}


def metric_names(raw: str | None, extra: tuple[str, ...]) -> list[str]:
    names = [m.strip() for m in (raw or "").split(",") if m.strip()] + list(extra)
    if not names:
        raise GraphError(3001, "Invalid query: no metric was given", subcode=1504028)
    return names


def insights(
    object_id: str,
    names: list[str],
    catalogue: dict[str, str],
    *,
    age_s: float,
    period: str,
    now: float,
) -> dict[str, Any]:
    data = []
    for name in names:
        if name not in catalogue:
            raise GraphError(100, "The value must be a valid insights metric")
        data.append(
            {
                "name": name,
                "period": period,
                "values": [_value(object_id, name, age_s, period, now)],
                "title": catalogue[name],
                "description": f"{catalogue[name]} (platform sandbox figures)",
                "id": f"{object_id}/insights/{name}/{period}",
            }
        )
    return {"data": data, "paging": {"previous": "", "next": ""}}


def _value(object_id: str, name: str, age_s: float, period: str, now: float) -> dict[str, Any]:
    keys = _BREAKDOWNS.get(name)
    if keys is not None:
        value: Any = {k: figure(object_id, f"{name}:{k}", age_s, scale=300) for k in keys}
    else:
        value = figure(object_id, name, age_s)
    entry: dict[str, Any] = {"value": value}
    if period != "lifetime":
        entry["end_time"] = iso(now)
    return entry
