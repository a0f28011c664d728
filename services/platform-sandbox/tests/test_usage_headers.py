"""Rate-limit headers on Graph responses (platform-apis.md §5.3): `X-App-Usage` for user and
app tokens, `X-Business-Use-Case-Usage` for Page, Instagram and WhatsApp calls, rising with use,
and the throttle codes once a budget is spent."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
V = "/graph.facebook.com/v23.0"


async def test_app_usage_rises_then_throttles_with_code_4(
    make_harness: Callable[..., SandboxHarness],
) -> None:
    h = make_harness(meta={"app_calls_per_hour": 4})
    token = (await h.token("user_long", h.demo.user_id))["access_token"]
    seen = []
    for _ in range(5):
        response = await h.client.get(f"{V}/me", params={"access_token": token})
        seen.append(
            (response.status_code, json.loads(response.headers["x-app-usage"])["call_count"])
        )
    assert seen[:4] == [(200, 25), (200, 50), (200, 75), (200, 100)]
    assert seen[4][0] == 400
    blocked = await h.client.get(f"{V}/me", params={"access_token": token})
    assert blocked.json()["error"]["code"] == 4
    h.sandbox.clock.advance(3600)
    assert (await h.client.get(f"{V}/me", params={"access_token": token})).status_code == 200


async def test_page_business_use_case_usage(make_harness: Callable[..., SandboxHarness]) -> None:
    h = make_harness(meta={"pages_calls_per_day": 2})
    token = (await h.token("page", h.demo.page_id))["access_token"]
    first = await h.client.get(f"{V}/{h.demo.page_id}", params={"access_token": token})
    usage = json.loads(first.headers["x-business-use-case-usage"])
    entry = usage[h.demo.page_id][0]
    assert (entry["type"], entry["call_count"]) == ("pages", 50)
    assert set(entry) == {
        "type",
        "call_count",
        "total_cputime",
        "total_time",
        "estimated_time_to_regain_access",
    }
    await h.client.get(f"{V}/{h.demo.page_id}", params={"access_token": token})
    throttled = await h.client.get(f"{V}/{h.demo.page_id}", params={"access_token": token})
    error = throttled.json()["error"]
    assert (error["code"], error["is_transient"]) == (80001, True)
    regain = json.loads(throttled.headers["x-business-use-case-usage"])[h.demo.page_id][0]
    assert regain["estimated_time_to_regain_access"] > 0


async def test_instagram_calls_report_the_instagram_type(harness: SandboxHarness) -> None:
    token = (await harness.token("ig_long", harness.demo.ig_user_id))["access_token"]
    response = await harness.client.get(
        f"/graph.instagram.com/v23.0/{harness.demo.ig_user_id}", params={"access_token": token}
    )
    usage = json.loads(response.headers["x-business-use-case-usage"])
    assert usage[harness.demo.ig_user_id][0]["type"] == "instagram"
