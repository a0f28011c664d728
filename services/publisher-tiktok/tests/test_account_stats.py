"""TikTok's account figures for the account insights job: `user/info` asked for the four counts
(GET, fields in the query), numbers kept and anything else left out, a creator who did not grant
`user.info.stats` refused as TikTok words it, and the display limit kept before calling."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from herald.errors import NeedsReauth, Throttled
from herald.insights.accounts import Account
from herald.runtime.ports import Credentials
from publisher_tiktok.account_stats import STATS, UserStats
from publisher_tiktok.adapters.api import HttpTikTokApi
from publisher_tiktok.adapters.limiter import SlidingWindowLimiter
from publisher_tiktok.settings import RateLimits, TikTokSettings

pytestmark = pytest.mark.unit

CREATOR = Account("int_tt", "biz_1", "tiktok", "open_1")
DAY = date(2026, 12, 6)


def stats_reading(status: int, body: dict[str, Any], seen: list[httpx.Request]) -> UserStats:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    limiter = SlidingWindowLimiter(RateLimits(display_per_minute=1))
    return UserStats(HttpTikTokApi(http, TikTokSettings()), limiter)


async def test_the_four_counts_are_read_and_only_numbers_kept() -> None:
    seen: list[httpx.Request] = []
    user = {"follower_count": 5120, "following_count": 131, "likes_count": 42_900, "x": "y"}
    body = {"data": {"user": {**user, "video_count": None}}, "error": {"code": "ok"}}
    stats = stats_reading(200, body, seen)
    figures = await stats.read(Credentials("tok", "open_1"), CREATOR, DAY)
    assert figures == {"follower_count": 5120.0, "following_count": 131.0, "likes_count": 42900.0}
    (request,) = seen
    assert (request.method, request.url.path) == ("GET", "/v2/user/info/")
    assert request.url.params["fields"] == ",".join(STATS)
    assert request.headers["Authorization"] == "Bearer tok"
    assert request.content == b""  # a GET carries no body
    with pytest.raises(Throttled):  # one display call a minute here: the second waits
        await stats.read(Credentials("tok", "open_1"), CREATOR, DAY)
    assert len(seen) == 1


async def test_a_missing_stats_scope_is_told_in_tiktoks_words() -> None:
    message = "Fields need the scope user.info.stats."
    body = {"data": {}, "error": {"code": "scope_permission_missed", "message": message}}
    stats = stats_reading(401, body, [])
    with pytest.raises(NeedsReauth) as caught:
        await stats.read(Credentials("tok", "open_1"), CREATOR, DAY)
    assert caught.value.code == "scope_permission_missed"
    assert "user.info.stats" in caught.value.message
