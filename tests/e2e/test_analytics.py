"""Analytics a business can read, through the whole system (every service a process, real Kafka
and FerretDB, accounts connected through OAuth on the sandbox): a post on Facebook, Instagram
(feed and reel) and TikTok; the sandbox's clock moved past 1 h and then 24 h after publishing;
both snapshots read from `GET /v1/posts/{id}/analytics` with the common names and the
platform's names, what a post type lacks absent with the reason, a refresh on demand (then a 429
with Retry-After), the accounts' figures by day (a Page, an Instagram account, a TikTok
creator) growing from one sandbox day to the next, and another business's ids 404.

The publishers' insights jobs follow the sandbox's clock in this system (tests/conftest.py,
ADR 0020), so nothing here waits an hour: it waits seconds for the jobs' next run.
"""

from __future__ import annotations

import time
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from tests.conftest import Connected

from herald_localstack.secrets import StackSecrets

pytestmark = pytest.mark.e2e

TERMINAL = frozenset({"published", "failed", "partially_published", "cancelled"})
HOUR, DAY = 3_600, 86_400


def _posts(connected: Connected, run: str) -> dict[str, str]:
    """name -> post id: one post of each kind, published now."""
    media = f"{connected.system.url('platform-sandbox')}/_sandbox/media/{run}"
    image = {"kind": "image", "url": f"{media}-i.jpg?bytes=30000&width=1080&height=1080"}
    video = {"kind": "video", "url": f"{media}-v.mp4?bytes=400000", "mime_type": "video/mp4"}
    image["mime_type"] = "image/jpeg"
    kinds: dict[str, tuple[str, dict[str, Any], dict[str, Any] | None]] = {
        "facebook": ("facebook", {"text": "Open until 8pm"}, None),
        "ig-feed": ("instagram", {"text": "Fresh today", "media": [image]}, {"kind": "feed"}),
        "ig-reel": ("instagram", {"text": "Shaping dough", "media": [video]}, {"kind": "reel"}),
        "tiktok": (
            "tiktok",
            {"text": "Fresh rye #bread", "media": [video]},
            {"privacy_level": "PUBLIC_TO_EVERYONE"},
        ),
    }
    posts = {}
    for name, (platform, content, options) in kinds.items():
        target: dict[str, Any] = {
            "integration_id": connected.integrations[platform],
            "platform": platform,
        }
        if options is not None:
            target["options"] = {"platform": platform, **options}
        text = f"{content['text']} herald-marker:{run}{name.replace('-', '')}"
        body: dict[str, object] = {"content": {**content, "text": text}, "targets": [target]}
        posts[name] = connected.post(body, idempotency_key=f"analytics-{run}-{name}")
    return posts


def _wait(check: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:g} s"
        time.sleep(2)


def _analytics(connected: Connected, post_id: str, key: str | None = None) -> httpx.Response:
    return _get(connected, f"/v1/posts/{post_id}/analytics", key)


def _get(connected: Connected, path: str, key: str | None = None, **params: str) -> httpx.Response:
    return httpx.get(
        f"{connected.system.url('scheduler')}{path}",
        params=params,
        headers={"Authorization": f"Bearer {key or connected.api_key}"},
        timeout=30,
    )


def _move_clock_to(connected: Connected, offset_s: float) -> None:
    """Advance the sandbox's clock until its offset is `offset_s` (it only moves forward)."""
    sandbox = connected.system.url("platform-sandbox")
    now = connected.sandbox("/_sandbox/clock")["offset_s"]
    if offset_s > now:
        moved = httpx.post(
            f"{sandbox}/_sandbox/clock/advance", json={"seconds": offset_s - now}, timeout=30
        )
        assert moved.status_code == 200, moved.text


def _snapshots_at(connected: Connected, posts: dict[str, str], age_s: int) -> dict[str, Any]:
    """name -> the post's one target once it has a snapshot at `age_s`, for every post."""

    def check() -> dict[str, Any] | None:
        found = {}
        for name, post_id in posts.items():
            answer = _analytics(connected, post_id)
            assert answer.status_code == 200, answer.text
            (target,) = answer.json()["targets"]
            if age_s not in [s["age_s"] for s in target["history"]]:
                return None
            found[name] = target
        return found

    found: dict[str, Any] = _wait(check, 180, f"the {age_s} s snapshots")
    return found


def _refresh(connected: Connected, post_id: str, key: str | None = None) -> httpx.Response:
    return httpx.post(
        f"{connected.system.url('scheduler')}/v1/posts/{post_id}/analytics/refresh",
        headers={"Authorization": f"Bearer {key or connected.api_key}"},
        timeout=30,
    )


def _refresh_once_then_429(connected: Connected, post_id: str, day: dict[str, Any]) -> None:
    """A refresh brings a snapshot at the post's age then (past a day: the clock moved), read
    by publisher-tiktok through video/query; asked again at once, a 429 with Retry-After."""
    first = _refresh(connected, post_id)
    assert first.status_code == 202, first.text
    assert [t["platform"] for t in first.json()["targets"]] == ["tiktok"]
    again = _refresh(connected, post_id)
    assert again.status_code == 429, again.text
    assert 1 <= int(again.headers["Retry-After"]) <= 300

    def refreshed() -> dict[str, Any] | None:
        (target,) = _analytics(connected, post_id).json()["targets"]
        latest: dict[str, Any] | None = target["latest"]
        return latest if latest is not None and latest["age_s"] > day["age_s"] else None

    latest = _wait(refreshed, 120, "the refreshed snapshot")
    assert latest["metrics"]["views"]["platform_metric"] == "view_count"
    assert latest["metrics"]["views"]["value"] >= day["metrics"]["views"]["value"]


def _other_business_key(connected: Connected) -> str:
    auth = connected.system.url("auth-service")
    token = StackSecrets.load_or_create(connected.system.cfg.run_dir).admin_token
    admin = {"Authorization": f"Bearer {token}"}
    made = httpx.post(
        f"{auth}/v1/admin/businesses", json={"name": "Another Bakery"}, headers=admin, timeout=30
    )
    assert made.status_code == 201, made.text
    key = httpx.post(
        f"{auth}/v1/admin/businesses/{made.json()['business_id']}/api-keys",
        json={"name": "analytics-test"},
        headers=admin,
        timeout=30,
    )
    assert key.status_code == 201, key.text
    issued: str = key.json()["key"]
    return issued


@pytest.mark.timeout(900)
def test_snapshots_after_an_hour_and_a_day_in_one_vocabulary(connected: Connected) -> None:
    run = uuid.uuid4().hex[:8]
    start = connected.sandbox("/_sandbox/clock")["offset_s"]
    posts = _posts(connected, run)
    statuses = _wait(
        lambda: (
            (s := {n: str(connected.status(p)["status"]) for n, p in posts.items()})
            and set(s.values()) <= TERMINAL
            and s
        ),
        300,
        "publishing",
    )
    assert statuses == dict.fromkeys(posts, "published")

    _move_clock_to(connected, start + HOUR + 60)
    hour = _snapshots_at(connected, posts, HOUR)
    _move_clock_to(connected, start + DAY + 60)
    day = _snapshots_at(connected, posts, DAY)

    for name, target in day.items():
        first, second = target["history"]
        assert (first["age_s"], second["age_s"]) == (HOUR, DAY), name
        assert first["collected_at"] < second["collected_at"], name
        assert target["latest"] == second, name
        assert hour[name]["history"][0] == first, name  # a snapshot once taken stays as it was
        status: Any = connected.status(posts[name])["targets"]
        assert target["platform_post_id"] == status[0]["platform_post_id"], name
        assert target["permalink"] == status[0]["permalink"], name
        for snapshot in (first, second):
            assert snapshot["metrics"]["views"]["value"] > 0, name
            assert not set(snapshot["metrics"]) & set(snapshot["absent"]), name
        # the sandbox's figures keep growing after the first hour
        assert second["metrics"]["views"]["value"] > first["metrics"]["views"]["value"], name

    facebook = day["facebook"]["latest"]
    assert facebook["metrics"]["views"]["platform_metric"] == "post_media_view"
    assert facebook["metrics"]["reach"]["platform_metric"] == "post_total_media_view_unique"
    reactions = facebook["metrics"]["reactions"]
    assert reactions["value"] == sum(reactions["by_type"].values())
    assert set(reactions["by_type"]) >= {"like", "love"}
    assert facebook["metrics"]["comments"]["platform_metric"] == (
        "post_activity_by_action_type.comment"
    )
    assert facebook["absent"]["saves"].endswith("have no saves metric")

    feed, reel = day["ig-feed"]["latest"], day["ig-reel"]["latest"]
    assert feed["metrics"]["saves"]["platform_metric"] == "saved"
    assert feed["metrics"]["views"]["value"] == feed["platform_metrics"]["views"]
    assert feed["absent"]["avg_watch_time_s"] == (
        "Instagram's ig_reels_avg_watch_time is for reels only"
    )
    watch = reel["metrics"]["avg_watch_time_s"]
    assert watch["platform_metric"] == "ig_reels_avg_watch_time"
    assert watch["value"] == reel["platform_metrics"]["ig_reels_avg_watch_time"] / 1000

    tiktok = day["tiktok"]["latest"]
    assert tiktok["metrics"]["views"]["platform_metric"] == "view_count"
    assert tiktok["metrics"]["reactions"]["platform_metric"] == "like_count"
    assert tiktok["absent"]["reach"].startswith("TikTok's video/query gives")

    since = str(connected.status(posts["facebook"])["created_at"])
    summary = _get(connected, "/v1/analytics/summary", **{"from": since}).json()
    by_platform = {p["platform"]: p for p in summary["platforms"]}
    assert by_platform["instagram"]["targets"] >= 2
    for platform in ("facebook", "instagram", "tiktok"):
        assert by_platform[platform]["totals"]["views"] > 0, platform
    assert by_platform["facebook"]["engagement_rate"] is not None
    assert "reach" not in by_platform["tiktok"]["counted"]  # TikTok gives no reach

    _refresh_once_then_429(connected, posts["tiktok"], day["tiktok"]["latest"])

    _accounts_by_day(connected)

    _another_business_gets_404(connected, posts)


ACCOUNTS = {  # provider -> (the followers' platform metric, one more figure's common name)
    "facebook": ("page_follows", "views"),
    "instagram": ("followers_count", "reach"),
    "tiktok": ("follower_count", "likes"),
}


def _accounts_by_day(connected: Connected) -> None:
    """Each account job took the days that ended while the test moved the sandbox's clock (a
    day and more): at least two days per account, the followers grown from one to the next."""
    today = str(connected.sandbox("/_sandbox/clock")["iso"])[:10]
    window = {"from": _day_before(today, 7), "to": _day_before(today, -1)}

    def two_days() -> dict[str, Any] | None:
        found = {}
        for provider in ACCOUNTS:
            path = f"/v1/analytics/accounts/{connected.integrations[provider]}"
            answer = _get(connected, path, **window)
            assert answer.status_code == 200, answer.text
            days = [d for d in answer.json()["days"] if d["unavailable"] is None]
            if len(days) < 2 or days[-1]["day"] != _day_before(today, 1):
                return None
            found[provider] = days
        return found

    found: dict[str, Any] = _wait(two_days, 120, "two days of account figures")
    for provider, (followers_metric, other) in ACCOUNTS.items():
        earlier, latest = found[provider][-2], found[provider][-1]
        followers = latest["metrics"]["followers"]
        assert followers["platform_metric"] == followers_metric, provider
        assert followers["value"] > earlier["metrics"]["followers"]["value"], provider
        assert latest["metrics"][other]["value"] > 0, provider
        assert not set(latest["metrics"]) & set(latest["absent"]), provider
    assert found["tiktok"][-1]["absent"]["reach"].startswith("TikTok's user/info")


def _day_before(day: str, days: int) -> str:
    return (date.fromisoformat(day) - timedelta(days=days)).isoformat()


def _another_business_gets_404(connected: Connected, posts: dict[str, str]) -> None:
    other = _other_business_key(connected)
    for post_id in posts.values():
        assert _analytics(connected, post_id, other).status_code == 404
        refused = _refresh(connected, post_id, other)
        assert refused.status_code == 404, refused.text
    for integration_id in connected.integrations.values():
        path = "/v1/analytics/summary"
        assert _get(connected, path, other, integration_id=integration_id).status_code == 404
        path = f"/v1/analytics/accounts/{integration_id}"
        assert _get(connected, path, other).status_code == 404
