"""Post and Page insights with current metric names (platform-apis.md §1.3)."""

from __future__ import annotations

import pytest

from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
V = "/graph.facebook.com/v23.0"


async def a_post(h: SandboxHarness) -> tuple[str, str]:
    token = (await h.token("page", h.demo.page_id))["access_token"]
    post = await h.client.post(
        f"{V}/{h.demo.page_id}/feed", data={"message": "m", "access_token": token}
    )
    return token, post.json()["id"]


async def test_post_insights(harness: SandboxHarness) -> None:
    token, post_id = await a_post(harness)
    harness.sandbox.clock.advance(1800)
    response = await harness.client.get(
        f"{V}/{post_id}/insights",
        params={"metric": "post_media_view,post_reactions_by_type_total", "access_token": token},
    )
    views, reactions = response.json()["data"]
    assert (views["name"], views["period"]) == ("post_media_view", "lifetime")
    assert views["values"][0]["value"] > 0
    assert set(reactions["values"][0]["value"]) >= {"like", "love"}
    single = await harness.client.get(
        f"{V}/{post_id}/insights/post_clicks", params={"access_token": token}
    )
    assert single.json()["data"][0]["name"] == "post_clicks"


@pytest.mark.parametrize(
    "metric", ["post_impressions", "post_impressions_unique", "post_engaged_users"]
)
async def test_removed_metrics_are_refused(harness: SandboxHarness, metric: str) -> None:
    token, post_id = await a_post(harness)
    response = await harness.client.get(
        f"{V}/{post_id}/insights", params={"metric": metric, "access_token": token}
    )
    assert response.json()["error"]["code"] == 100


async def test_no_metric_and_no_permission(harness: SandboxHarness) -> None:
    token, post_id = await a_post(harness)
    none = await harness.client.get(f"{V}/{post_id}/insights", params={"access_token": token})
    assert (none.json()["error"]["code"], none.json()["error"]["error_subcode"]) == (3001, 1504028)
    narrow = (await harness.token("page", harness.demo.page_id, scopes=["pages_manage_posts"]))[
        "access_token"
    ]
    denied = await harness.client.get(
        f"{V}/{post_id}/insights", params={"metric": "post_clicks", "access_token": narrow}
    )
    assert denied.json()["error"]["code"] == 200


async def test_page_insights(harness: SandboxHarness) -> None:
    token = (await harness.token("page", harness.demo.page_id))["access_token"]
    response = await harness.client.get(
        f"{V}/{harness.demo.page_id}/insights",
        params={"metric": "page_media_view,page_follows", "period": "day", "access_token": token},
    )
    data = response.json()["data"]
    assert [d["period"] for d in data] == ["day", "day"]
    assert "end_time" in data[0]["values"][0]
    fans = await harness.client.get(
        f"{V}/{harness.demo.page_id}/insights",
        params={"metric": "page_fans", "access_token": token},
    )
    assert fans.json()["error"]["code"] == 100
