"""The insights job can follow a platform sandbox's clock (test systems only, ADR 0020)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from herald.insights import InsightsSettings
from herald.insights.clock import FollowedClock

pytestmark = pytest.mark.unit


def sandbox(answers: list[object]) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/_sandbox/clock"
        return httpx.Response(200, json={"now": 0, "offset_s": answers.pop(0)})

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


async def test_now_is_the_machines_time_plus_the_sandboxs_offset() -> None:
    clock = FollowedClock(sandbox([90_000.0, "soon"]), "http://sandbox/_sandbox/clock")
    assert abs(clock() - datetime.now(UTC)) < timedelta(seconds=5)
    await clock.refresh()
    assert abs(clock() - (datetime.now(UTC) + timedelta(days=1, hours=1))) < timedelta(seconds=5)
    with pytest.raises(ValueError, match="offset_s"):
        await clock.refresh()
    assert clock() > datetime.now(UTC) + timedelta(days=1)  # the last offset read stays


def test_the_clock_url_must_be_a_url() -> None:
    assert InsightsSettings().clock_url is None
    with pytest.raises(ValueError, match="clock_url"):
        InsightsSettings(clock_url="sandbox clock")
