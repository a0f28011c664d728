"""Media insights with the metric names current since v22 (platform-apis.md §2.3).

Which metric a media answers depends on its product type (FEED, REELS, STORY); deprecated ones
(`impressions`, `plays`, `video_views`, ...) and ones outside the product type are error 100.
Album children have no insights; a story seen by fewer than 5 accounts is error 10.
"""

from __future__ import annotations

from typing import Any

from platform_sandbox.graph_errors import GraphError
from platform_sandbox.instagram.model import IgMedia
from platform_sandbox.stats import figure

_ALL = frozenset({"FEED", "REELS", "STORY"})
METRICS: dict[str, frozenset[str]] = {
    "views": _ALL,
    "reach": _ALL,
    "shares": _ALL,
    "total_interactions": _ALL,
    "reposts": _ALL,
    "facebook_views": _ALL,
    "likes": frozenset({"FEED", "REELS"}),
    "comments": frozenset({"FEED", "REELS"}),
    "saved": frozenset({"FEED", "REELS"}),
    "profile_visits": frozenset({"FEED", "STORY"}),
    "profile_activity": frozenset({"FEED", "STORY"}),
    "follows": frozenset({"FEED", "STORY"}),
    "ig_reels_avg_watch_time": frozenset({"REELS"}),
    "ig_reels_video_view_total_time": frozenset({"REELS"}),
    "reels_skip_rate": frozenset({"REELS"}),
    "crossposted_views": frozenset({"REELS"}),
    "navigation": frozenset({"STORY"}),
    "replies": frozenset({"STORY"}),
    "link_clicks": frozenset({"STORY"}),
}
BREAKDOWNS = {
    "profile_activity": ("action_type", ("BIO_LINK_CLICKED", "CALL", "DIRECTION", "EMAIL", "TEXT")),
    "navigation": (
        "story_navigation_action_type",
        ("SWIPE_FORWARD", "TAP_BACK", "TAP_EXIT", "TAP_FORWARD"),
    ),
}


def media_insights(
    media: IgMedia, names: list[str], breakdown: str | None, now: float, min_viewers: int
) -> dict[str, Any]:
    if media.parent_id is not None:
        raise GraphError(10, "Media Insights are not available for album children")
    age = now - media.timestamp
    if media.media_product_type == "STORY" and figure(media.id, "reach", age) < min_viewers:
        raise GraphError(10, "Not enough viewers for the media to show insights")
    return {"data": [_metric(media, name, breakdown, age) for name in names]}


def _metric(media: IgMedia, name: str, breakdown: str | None, age: float) -> dict[str, Any]:
    if media.media_product_type not in METRICS.get(name, frozenset()):
        raise GraphError(
            100,
            f"The Media Insights API does not support the {name} metric for this media "
            "product type.",
        )
    value = figure(media.id, name, age, scale=5_000)
    entry: dict[str, Any] = {
        "name": name,
        "period": "lifetime",
        "values": [{"value": value}],
        "title": name.replace("_", " ").capitalize(),
        "description": f"{name} (platform sandbox figures)",
        "id": f"{media.id}/insights/{name}/lifetime",
    }
    if name in BREAKDOWNS and breakdown is not None:
        dimension, keys = BREAKDOWNS[name]
        if breakdown != dimension:
            raise GraphError(1, "An unknown error has occurred.")
        results = [
            {"dimension_values": [k], "value": figure(media.id, f"{name}:{k}", age, scale=200)}
            for k in keys
        ]
        breakdowns = [{"dimension_keys": [dimension], "results": results}]
        entry["total_value"] = {"value": value, "breakdowns": breakdowns}
    return entry
