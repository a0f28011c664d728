"""Account-level insights that move with the sandbox clock: Page insights by day, Instagram
account insights (time series and total values) and TikTok's user stats (platform-apis.md
§1.3, §2.3, §4.3)."""

from __future__ import annotations

from typing import Any

import pytest

from platform_sandbox.account_stats import days_between, total
from platform_sandbox.graph_errors import GraphError
from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
FB = "/graph.facebook.com/v23.0"
TT = "/open.tiktokapis.com/v2"
DAY = 86_400


async def graph(h: SandboxHarness, node: str, **params: str) -> dict[str, Any]:
    token = (await h.token("page", h.demo.page_id))["access_token"]
    response = await h.client.get(f"{FB}/{node}/insights", params={**params, "access_token": token})
    body: dict[str, Any] = response.json()
    return body


async def test_page_insights_by_day_move_with_the_clock(harness: SandboxHarness) -> None:
    metrics = "page_media_view,page_post_engagements,page_follows"
    first = await graph(harness, harness.demo.page_id, metric=metrics, period="day")
    assert [d["name"] for d in first["data"]] == metrics.split(",")
    follows = first["data"][2]["values"]
    assert len(follows) == 2
    assert follows[0]["value"] < follows[1]["value"]
    assert all(v["end_time"].endswith("T00:00:00+0000") for v in follows)
    again = await graph(harness, harness.demo.page_id, metric=metrics, period="day")
    assert again["data"] == first["data"]  # the same days answer the same figures

    harness.sandbox.clock.advance(DAY)
    later = await graph(harness, harness.demo.page_id, metric=metrics, period="day")
    assert later["data"][2]["values"][0] == follows[1]  # the window moved one day on
    assert later["data"][2]["values"][1]["value"] > follows[1]["value"]


@pytest.mark.parametrize(
    "metric", ["page_impressions_unique", "page_impressions", "page_fans", "page_engaged_users"]
)
async def test_removed_page_metrics_are_error_100(harness: SandboxHarness, metric: str) -> None:
    body = await graph(harness, harness.demo.page_id, metric=metric, period="day")
    assert body["error"]["code"] == 100


async def test_page_window_rules(harness: SandboxHarness) -> None:
    now = harness.sandbox.clock.now()
    week = await graph(
        harness,
        harness.demo.page_id,
        metric="page_media_view",
        period="day",
        since=str(int(now - 7 * DAY)),
        until=str(int(now)),
    )
    assert len(week["data"][0]["values"]) == 7
    wide = await graph(
        harness, harness.demo.page_id, metric="page_media_view", since=str(int(now - 91 * DAY))
    )
    assert "90 days" in wide["error"]["message"]
    bad = await graph(harness, harness.demo.page_id, metric="page_media_view", since="soon")
    assert "since" in bad["error"]["message"]


async def test_instagram_account_insights(harness: SandboxHarness) -> None:
    ig = harness.demo.ig_user_id
    series = await graph(harness, ig, metric="reach,follower_count", period="day")
    reach, followers = series["data"]
    assert len(reach["values"]) == 2
    assert "end_time" in reach["values"][0]
    assert followers["values"][0]["value"] > 0
    totals = await graph(
        harness, ig, metric="views,reach,accounts_engaged", period="day", metric_type="total_value"
    )
    assert all(d["total_value"]["value"] > 0 for d in totals["data"])
    harness.sandbox.clock.advance(DAY)
    moved = await graph(
        harness, ig, metric="views,reach,accounts_engaged", period="day", metric_type="total_value"
    )
    assert moved["data"] != totals["data"]  # another day, other figures


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"metric": "views", "period": "day"}, "metric_type=total_value"),
        ({"metric": "impressions", "period": "day"}, "must be one of"),
        ({"metric": "reach"}, "period"),
        (
            {"metric": "follower_count", "period": "day", "metric_type": "total_value"},
            "follower_count",
        ),
    ],
)
async def test_instagram_account_insights_refusals(
    harness: SandboxHarness, params: dict[str, str], words: str
) -> None:
    body = await graph(harness, harness.demo.ig_user_id, **params)
    assert body["error"]["code"] == 100
    assert words in body["error"]["message"]


async def test_ig_followers_total_grows_by_the_daily_new_followers(harness: SandboxHarness) -> None:
    token = (await harness.token("page", harness.demo.page_id))["access_token"]
    node = f"{FB}/{harness.demo.ig_user_id}"
    before = await harness.client.get(
        node, params={"fields": "followers_count", "access_token": token}
    )
    series = await graph(harness, harness.demo.ig_user_id, metric="follower_count", period="day")
    harness.sandbox.clock.advance(DAY)
    after = await harness.client.get(
        node, params={"fields": "followers_count", "access_token": token}
    )
    grown = after.json()["followers_count"] - before.json()["followers_count"]
    assert grown == series["data"][0]["values"][-1]["value"]


async def test_tiktok_user_stats_grow_by_the_day(harness: SandboxHarness) -> None:
    fields = {"fields": "follower_count,following_count,likes_count,video_count"}

    async def stats() -> dict[str, int]:  # a fresh token each time: a day outlives one
        token = (await harness.token("tt_access", harness.demo.tiktok_open_id))["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        response = await harness.client.get(f"{TT}/user/info/", params=fields, headers=auth)
        user: dict[str, int] = response.json()["data"]["user"]
        return user

    today = await stats()
    assert today == await stats()
    harness.sandbox.clock.advance(DAY)
    tomorrow = await stats()
    for name in ("follower_count", "following_count", "likes_count"):
        assert tomorrow[name] > today[name]
    assert tomorrow["video_count"] == today["video_count"]


def test_days_between_reports_finished_days_only() -> None:
    now = 20_000 * DAY + 3_600.0  # one hour into a day
    assert days_between(None, None, now, max_days=90, default_days=2) == [19_998, 19_999]
    assert days_between(str(19_999 * DAY), None, now, max_days=90, default_days=2) == [19_999]
    with pytest.raises(GraphError, match="before until"):
        days_between(str(int(now)), str(int(now - DAY)), now, max_days=90, default_days=2)
    assert total("p", "page_follows", 19_000, 100) == 100  # before the epoch: the start figure
