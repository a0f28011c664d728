"""Instagram media insights with current metric names (platform-apis.md §2.3)."""

from __future__ import annotations

import pytest

from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
FB = "/graph.facebook.com/v23.0"


async def published(h: SandboxHarness, **params: str) -> tuple[str, str]:
    token = (await h.token("page", h.demo.page_id))["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    made = await h.client.post(f"{FB}/{h.demo.ig_user_id}/media", data=params, headers=auth)
    await h.settle()
    h.sandbox.clock.advance(20)
    media = await h.client.post(
        f"{FB}/{h.demo.ig_user_id}/media_publish",
        data={"creation_id": made.json()["id"]},
        headers=auth,
    )
    return token, media.json()["id"]


async def test_feed_metrics_rise_with_time(harness: SandboxHarness) -> None:
    token, media = await published(harness, image_url=harness.media_url("a.jpg"))

    async def views() -> int:
        response = await harness.client.get(
            f"{FB}/{media}/insights", params={"metric": "views,reach,likes", "access_token": token}
        )
        data = response.json()["data"]
        assert [d["name"] for d in data] == ["views", "reach", "likes"]
        assert all(d["period"] == "lifetime" for d in data)
        value: int = data[0]["values"][0]["value"]
        return value

    early = await views()
    harness.sandbox.clock.advance(3600)
    assert await views() > early


@pytest.mark.parametrize("metric", ["impressions", "plays", "video_views", "navigation"])
async def test_deprecated_or_foreign_metrics_are_refused(
    harness: SandboxHarness, metric: str
) -> None:
    token, media = await published(harness, image_url=harness.media_url("a.jpg"))
    response = await harness.client.get(
        f"{FB}/{media}/insights", params={"metric": metric, "access_token": token}
    )
    assert response.json()["error"]["code"] == 100


async def test_reel_metrics(harness: SandboxHarness) -> None:
    token, media = await published(
        harness, media_type="REELS", video_url=harness.media_url("r.mp4")
    )
    response = await harness.client.get(
        f"{FB}/{media}/insights",
        params={"metric": "views,ig_reels_avg_watch_time,reels_skip_rate", "access_token": token},
    )
    assert len(response.json()["data"]) == 3


async def test_a_story_seen_by_few_has_no_insights(harness: SandboxHarness) -> None:
    token, media = await published(
        harness, media_type="STORIES", image_url=harness.media_url("s.jpg")
    )
    response = await harness.client.get(
        f"{FB}/{media}/insights", params={"metric": "reach", "access_token": token}
    )
    assert response.json()["error"]["code"] == 10


async def test_breakdown_of_profile_activity(harness: SandboxHarness) -> None:
    token, media = await published(harness, image_url=harness.media_url("a.jpg"))
    harness.sandbox.clock.advance(3600)
    response = await harness.client.get(
        f"{FB}/{media}/insights",
        params={"metric": "profile_activity", "breakdown": "action_type", "access_token": token},
    )
    total = response.json()["data"][0]["total_value"]
    assert total["breakdowns"][0]["dimension_keys"] == ["action_type"]


async def test_insights_need_the_insights_permission(harness: SandboxHarness) -> None:
    _, media = await published(harness, image_url=harness.media_url("a.jpg"))
    token = (await harness.token("page", harness.demo.page_id, scopes=["instagram_basic"]))[
        "access_token"
    ]
    response = await harness.client.get(
        f"{FB}/{media}/insights", params={"metric": "views", "access_token": token}
    )
    assert response.json()["error"]["code"] == 10
