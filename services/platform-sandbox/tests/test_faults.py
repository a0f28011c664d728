"""Fault injection through `/_sandbox/faults`: platform errors by endpoint and account, counts,
probabilities, latency, timeouts, dropped connections, and "accept then fail" (the side effect
happens, the answer is lost)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from platform_sandbox.faults import ConnectionDroppedError
from platform_sandbox.media.synthetic import generate
from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
V = "/graph.facebook.com/v23.0"


async def fault(h: SandboxHarness, **rule: Any) -> int:
    response = await h.client.post("/_sandbox/faults", json=rule)
    assert response.status_code == 201, response.text
    fault_id: int = response.json()["id"]
    return fault_id


async def wa_send(h: SandboxHarness, text: str = "hi") -> httpx.Response:
    token = (await h.token("system_user", "1", assets=[h.demo.waba_id]))["access_token"]
    return await h.client.post(
        f"{V}/{h.demo.phone_number_id}/messages",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "messaging_product": "whatsapp",
            "to": "1555",
            "type": "template",
            "template": {"name": "hello_world", "language": {"code": "en_US"}},
        },
    )


async def feed(h: SandboxHarness, message: str) -> httpx.Response:
    token = (await h.token("page", h.demo.page_id))["access_token"]
    return await h.client.post(
        f"{V}/{h.demo.page_id}/feed", data={"message": message, "access_token": token}
    )


async def test_counted_platform_error_for_one_account(harness: SandboxHarness) -> None:
    await fault(
        harness,
        platform="whatsapp",
        endpoint="messages",
        account=harness.demo.phone_number_id,
        error={"code": 131000, "message": "Something went wrong"},
        count=1,
    )
    failed = await wa_send(harness)
    assert (failed.status_code, failed.json()["error"]["code"]) == (500, 131000)
    assert failed.json()["error"]["is_transient"] is True
    assert (await wa_send(harness)).status_code == 200
    assert (await harness.client.get("/_sandbox/ledger")).json()["count"] == 1
    assert (await harness.client.get("/_sandbox/faults")).json()["faults"] == []


async def test_a_fault_for_another_account_does_not_fire(harness: SandboxHarness) -> None:
    await fault(harness, platform="whatsapp", account="999", error={"code": 131000})
    assert (await wa_send(harness)).status_code == 200


async def test_token_expiry_injected_with_its_subcode(harness: SandboxHarness) -> None:
    await fault(
        harness,
        platform="facebook",
        endpoint="feed",
        error={"code": 190, "subcode": 463, "status": 400},
    )
    error = (await feed(harness, "x")).json()["error"]
    assert (error["code"], error["error_subcode"]) == (190, 463)


async def test_probability_is_reproducible_with_a_seed(
    make_harness: Callable[..., SandboxHarness],
) -> None:
    outcomes = []
    for _ in range(2):
        h = make_harness(faults={"seed": 7})
        await fault(h, platform="facebook", error={"code": 2}, probability=0.5)
        outcomes.append([(await feed(h, f"m{i}")).status_code for i in range(12)])
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {200, 500}


async def test_accept_then_fail_publishes_and_answers_500(harness: SandboxHarness) -> None:
    token = (await harness.token("page", harness.demo.page_id))["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    made = await harness.client.post(
        f"{V}/{harness.demo.ig_user_id}/media",
        headers=auth,
        data={"image_url": harness.media_url("a.jpg")},
    )
    container = made.json()["id"]
    await fault(
        harness, platform="instagram", endpoint="media_publish", action="accept_then_fail", count=1
    )
    lost = await harness.client.post(
        f"{V}/{harness.demo.ig_user_id}/media_publish",
        headers=auth,
        data={"creation_id": container},
    )
    assert (lost.status_code, lost.json()["error"]["code"]) == (500, 2)
    state = await harness.client.get(
        f"{V}/{container}", headers=auth, params={"fields": "status_code"}
    )
    assert state.json()["status_code"] == "PUBLISHED"
    assert (
        await harness.client.get("/_sandbox/ledger", params={"kind": "media_published"})
    ).json()["count"] == 1


async def test_accept_then_drop_the_connection(harness: SandboxHarness) -> None:
    await fault(
        harness, platform="facebook", endpoint="feed", action="accept_then_fail", then="drop"
    )
    with pytest.raises(ConnectionDroppedError):
        await feed(harness, "ambiguous")
    ledger = (await harness.client.get("/_sandbox/ledger")).json()
    assert [e["text"] for e in ledger["entries"]] == ["ambiguous"]


async def test_drop_without_side_effect(harness: SandboxHarness) -> None:
    await fault(harness, platform="facebook", action="drop")
    with pytest.raises(ConnectionDroppedError):
        await feed(harness, "never")
    assert (await harness.client.get("/_sandbox/ledger")).json()["count"] == 0


async def test_timeout_holds_then_drops(harness: SandboxHarness) -> None:
    await fault(harness, platform="facebook", action="timeout", hang_s=0.2)
    started = time.perf_counter()
    with pytest.raises(ConnectionDroppedError):
        await feed(harness, "slow")
    assert time.perf_counter() - started >= 0.2
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(feed(harness, "slower"), timeout=0.05)


async def test_latency_then_normal_answer(harness: SandboxHarness) -> None:
    await fault(harness, platform="facebook", action="latency", latency_ms=100)
    started = time.perf_counter()
    assert (await feed(harness, "late")).status_code == 200
    assert time.perf_counter() - started >= 0.1


async def test_tiktok_faults_use_tiktok_errors(harness: SandboxHarness) -> None:
    await fault(
        harness,
        platform="tiktok",
        endpoint="creator_info/query",
        error={"status": 429, "code": "rate_limit_exceeded"},
    )
    token = (await harness.token("tt_access", harness.demo.tiktok_open_id))["access_token"]
    response = await harness.client.post(
        "/open.tiktokapis.com/v2/post/publish/creator_info/query/",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert (response.status_code, response.json()["error"]["code"]) == (429, "rate_limit_exceeded")


async def test_tiktok_upload_accept_then_fail(harness: SandboxHarness) -> None:
    token = (await harness.token("tt_access", harness.demo.tiktok_open_id))["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    source = {
        "source": "FILE_UPLOAD",
        "video_size": 2000,
        "chunk_size": 2000,
        "total_chunk_count": 1,
    }
    info = {"title": "t", "privacy_level": "SELF_ONLY", "brand_content_toggle": False}
    init = await harness.client.post(
        "/open.tiktokapis.com/v2/post/publish/video/init/",
        headers=auth,
        json={"post_info": info, "source_info": source},
    )
    data = init.json()["data"]
    await fault(harness, platform="tiktok", endpoint="upload", action="accept_then_fail")
    put = await harness.client.put(
        data["upload_url"],
        content=b"".join(generate("mp4", 2000)),
        headers={"Content-Type": "video/mp4", "Content-Range": "bytes 0-1999/2000"},
    )
    assert (put.status_code, put.json()["error"]["code"]) == (500, "internal_error")
    harness.sandbox.clock.advance(3)
    assert (await harness.client.get("/_sandbox/ledger", params={"platform": "tiktok"})).json()[
        "count"
    ] == 1


async def test_listing_and_removing_faults(harness: SandboxHarness) -> None:
    first = await fault(harness, platform="facebook", error={"code": 2})
    await fault(harness, platform="tiktok", error={"code": "internal_error"})
    assert len((await harness.client.get("/_sandbox/faults")).json()["faults"]) == 2
    assert (await harness.client.delete(f"/_sandbox/faults/{first}")).status_code == 200
    assert (await harness.client.delete(f"/_sandbox/faults/{first}")).status_code == 404
    await harness.client.delete("/_sandbox/faults")
    assert (await harness.client.get("/_sandbox/faults")).json()["faults"] == []
    bad = await harness.client.post("/_sandbox/faults", json={"probability": 2})
    assert bad.status_code == 422
