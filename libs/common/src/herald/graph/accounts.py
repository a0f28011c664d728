"""Account insights on Graph for the account insights job (docs/adr/0020): a Page's insights and
an Instagram account's, one finished UTC day at a time, with the metric names Graph still
accepts (platform-apis.md §1.3: `page_impressions*` and `page_fans*` are gone; §2.3 and the IG
User insights reference: `impressions` is gone, most account metrics answer only
`metric_type=total_value`).

The day is asked as `since` = its start and `until` = its end (Unix times); of a time series the
value whose `end_time` is the day's end is kept. A metric Graph answers no value for is left out,
never 0 (Graph answers missing data with an empty list).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from herald.graph.client import GraphClient, Host
from herald.insights.accounts import Account
from herald.runtime.ports import Credentials

PAGE_METRICS = (
    "page_media_view",
    "page_total_media_view_unique",
    "page_post_engagements",
    "page_views_total",
    "page_follows",
)
IG_SERIES = ("reach", "follower_count")
IG_TOTALS = (
    "views",
    "accounts_engaged",
    "total_interactions",
    "likes",
    "comments",
    "shares",
    "saves",
    "profile_views",
)


def day_window(day: date) -> dict[str, int]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return {"since": int(start.timestamp()), "until": int((start + timedelta(days=1)).timestamp())}


def day_values(body: Mapping[str, Any], day: date) -> dict[str, float]:
    """Name → number from Graph's insights answer: the time series value ending with `day`, or
    the `total_value`; anything that is not a number is left out."""
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC)
    found: dict[str, float] = {}
    data = body.get("data")
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            continue
        value = _value_of(item, end)
        if isinstance(value, int | float) and not isinstance(value, bool):
            found[item["name"]] = float(value)
    return found


def _value_of(item: Mapping[str, Any], end: datetime) -> object:
    total = item.get("total_value")
    if isinstance(total, Mapping):
        return total.get("value")
    values = item.get("values")
    for entry in values if isinstance(values, list) else []:
        if isinstance(entry, Mapping) and _time(entry.get("end_time")) == end:
            return entry.get("value")
    return None


def _time(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class PageAccountInsights:
    """The `AccountReader` of Facebook Pages."""

    graph: GraphClient

    async def read(self, credentials: Credentials, account: Account, day: date) -> dict[str, float]:
        params = {"metric": ",".join(PAGE_METRICS), "period": "day", **day_window(day)}
        ids = {"page": account.account_id}
        body = await self.graph.get(
            credentials.access_token, "{page}/insights", ids=ids, params=params
        )
        return day_values(body, day)


@dataclass(frozen=True)
class InstagramAccountInsights:
    """The `AccountReader` of Instagram accounts: the time series (reach, new followers), the
    day's total values, and the follower total as collected (`followers_count`). An account
    connected with Instagram Login is read on graph.instagram.com."""

    graph: GraphClient

    async def read(self, credentials: Credentials, account: Account, day: date) -> dict[str, float]:
        host: Host = "instagram" if credentials.account.get("login") == "instagram" else "graph"
        token, ids, window = credentials.access_token, {"ig": account.account_id}, day_window(day)
        series = {"metric": ",".join(IG_SERIES), "period": "day", **window}
        totals = {**series, "metric": ",".join(IG_TOTALS), "metric_type": "total_value"}
        found: dict[str, float] = {}
        for params in (series, totals):
            body = await self.graph.get(token, "{ig}/insights", ids=ids, params=params, host=host)
            found.update(day_values(body, day))
        node = await self.graph.get(
            token, "{ig}", ids=ids, params={"fields": "followers_count"}, host=host
        )
        count = node.get("followers_count")
        if isinstance(count, int) and not isinstance(count, bool):
            found["followers_count"] = float(count)
        return found
