"""Content Posting API (platform-apis.md §4.2): creator info, Direct Post with FILE_UPLOAD
(chunks answering 206/201/400/403/404/416) and PULL_FROM_URL, photos, inbox uploads, status,
caps, per-minute limits, signed webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from platform_sandbox.media.synthetic import generate
from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
API = "/open.tiktokapis.com/v2/post/publish"
HOOK = "http://127.0.0.1:8150/webhooks/tiktok"
SMALL = {"chunk_min_bytes": 1000, "chunk_max_bytes": 4000, "final_chunk_max_bytes": 8000}
INFO = {
    "title": "Sourdough #bread",
    "privacy_level": "PUBLIC_TO_EVERYONE",
    "brand_content_toggle": False,
}


async def auth(h: SandboxHarness, **options: Any) -> dict[str, str]:
    token = (await h.token("tt_access", h.demo.tiktok_open_id, **options))["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def call(
    h: SandboxHarness, headers: dict[str, str], path: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    return await h.client.post(f"{API}/{path}", headers=headers, json=body or {})


async def init_file(
    h: SandboxHarness, headers: dict[str, str], size: int, chunk: int, info: dict[str, Any] = INFO
) -> dict[str, Any]:
    source = {
        "source": "FILE_UPLOAD",
        "video_size": size,
        "chunk_size": chunk,
        "total_chunk_count": max(1, size // chunk),
    }
    response = await call(h, headers, "video/init/", {"post_info": info, "source_info": source})
    assert response.status_code == 200, response.text
    assert response.json()["error"]["code"] == "ok"
    data: dict[str, Any] = response.json()["data"]
    return data


async def put(
    h: SandboxHarness,
    url: str,
    data: bytes,
    first: int,
    total: int,
    *,
    content_type: str = "video/mp4",
) -> httpx.Response:
    last = first + len(data) - 1
    headers = {"Content-Type": content_type, "Content-Range": f"bytes {first}-{last}/{total}"}
    return await h.client.put(url, content=data, headers=headers)


async def status(h: SandboxHarness, headers: dict[str, str], publish_id: str) -> dict[str, Any]:
    response = await call(h, headers, "status/fetch/", {"publish_id": publish_id})
    data: dict[str, Any] = response.json()["data"]
    return data


async def test_creator_info(harness: SandboxHarness) -> None:
    response = await call(harness, await auth(harness), "creator_info/query/")
    data = response.json()["data"]
    assert data["privacy_level_options"] == [
        "PUBLIC_TO_EVERYONE",
        "MUTUAL_FOLLOW_FRIENDS",
        "SELF_ONLY",
    ]
    assert data["creator_username"] == "herald.demo"
    assert data["max_video_post_duration_sec"] == 600


async def test_small_video_uploaded_whole_then_published(harness: SandboxHarness) -> None:
    inbox = harness.inbox(HOOK)
    await harness.client.put("/_sandbox/webhooks/tiktok", json={"url": HOOK})
    headers = await auth(harness)
    video = b"".join(generate("mp4", 3000))
    init = await init_file(harness, headers, len(video), len(video))
    assert init["publish_id"].startswith("v_pub_file~v2")
    assert (await status(harness, headers, init["publish_id"]))["status"] == "PROCESSING_UPLOAD"
    done = await put(harness, init["upload_url"], video, 0, len(video))
    assert done.status_code == 201
    assert done.headers["content-range"] == f"bytes 0-{len(video) - 1}/{len(video)}"
    processing = await status(harness, headers, init["publish_id"])
    assert (processing["status"], processing["uploaded_bytes"]) == ("PROCESSING_UPLOAD", 3000)
    harness.sandbox.clock.advance(2)
    complete = await status(harness, headers, init["publish_id"])
    assert (complete["status"], complete["publicaly_available_post_id"]) == ("PUBLISH_COMPLETE", [])
    harness.sandbox.clock.advance(5)
    public = await status(harness, headers, init["publish_id"])
    assert len(public["publicaly_available_post_id"]) == 1
    ledger = (await harness.client.get("/_sandbox/ledger", params={"platform": "tiktok"})).json()
    assert [(e["kind"], e["object_id"]) for e in ledger["entries"]] == [
        ("video_published", init["publish_id"])
    ]
    await harness.client.post("/_sandbox/webhooks/deliver")
    events = []
    for request in inbox.requests:
        stamp, signature = (
            p.split("=", 1)[1] for p in request.headers["tiktok-signature"].split(",")
        )
        signed = f"{stamp}.".encode() + request.content
        expected = hmac.new(b"sandbox-tiktok-client-secret", signed, hashlib.sha256).hexdigest()
        assert signature == expected
        body = json.loads(request.content)
        assert body["user_openid"] == harness.demo.tiktok_open_id
        events.append((body["event"], json.loads(body["content"])["publish_id"]))
    assert events == [
        ("post.publish.complete", init["publish_id"]),
        ("post.publish.publicly_available", init["publish_id"]),
    ]


async def test_chunked_upload_answers_206_then_201(
    make_harness: Callable[..., SandboxHarness],
) -> None:
    h = make_harness(tiktok=SMALL)
    headers = await auth(h)
    video = b"".join(generate("mp4", 5500))
    init = await init_file(h, headers, len(video), 2000)
    url = init["upload_url"]
    first = await put(h, url, video[:2000], 0, len(video))
    assert (first.status_code, first.headers["content-range"]) == (206, "bytes 0-1999/5500")
    skipped = await put(h, url, video[4000:], 4000, len(video))
    assert skipped.status_code == 416
    repeated = await put(h, url, video[:2000], 0, len(video))
    assert repeated.status_code == 416
    wrong_length = await put(h, url, video[2000:3000], 2000, len(video))
    assert wrong_length.status_code == 400
    second = await put(h, url, video[2000:], 2000, len(video))
    assert second.status_code == 201


async def test_upload_url_errors(make_harness: Callable[..., SandboxHarness]) -> None:
    h = make_harness(tiktok=SMALL)
    headers = await auth(h)
    video = b"".join(generate("mp4", 3000))
    init = await init_file(h, headers, 3000, 1000)
    url = init["upload_url"]
    assert (await put(h, url, video[:1000], 0, 3000, content_type="text/plain")).status_code == 400
    no_range = await h.client.put(url, content=video[:1000], headers={"Content-Type": "video/mp4"})
    assert no_range.status_code == 400
    assert (
        await put(h, url.replace("upload_token=", "upload_token=x"), video[:1000], 0, 3000)
    ).status_code == 404
    h.sandbox.clock.advance(3601)
    assert (await put(h, url, video[:1000], 0, 3000)).status_code == 403


async def test_init_refuses_broken_chunk_plans(harness: SandboxHarness) -> None:
    headers = await auth(harness)
    source = {
        "source": "FILE_UPLOAD",
        "video_size": 100 * 1024 * 1024,
        "chunk_size": 1024 * 1024,
        "total_chunk_count": 100,
    }
    response = await call(
        harness, headers, "video/init/", {"post_info": INFO, "source_info": source}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_param")


async def test_a_file_that_is_not_a_video_fails_format_check(harness: SandboxHarness) -> None:
    headers = await auth(harness)
    data = b"".join(generate("pdf", 2000))
    init = await init_file(harness, headers, 2000, 2000)
    assert (await put(harness, init["upload_url"], data, 0, 2000)).status_code == 201
    harness.sandbox.clock.advance(3)
    failed = await status(harness, headers, init["publish_id"])
    assert (failed["status"], failed["fail_reason"]) == ("FAILED", "file_format_check_failed")


async def test_pull_from_url_needs_a_verified_prefix(harness: SandboxHarness) -> None:
    headers = await auth(harness)
    url = harness.media_url("clip.mp4", bytes=40_000)
    body = {"post_info": INFO, "source_info": {"source": "PULL_FROM_URL", "video_url": url}}
    refused = await call(harness, headers, "video/init/", body)
    assert (refused.status_code, refused.json()["error"]["code"]) == (
        403,
        "url_ownership_unverified",
    )
    await harness.client.post(
        "/_sandbox/tiktok/verified_prefixes", json={"prefix": harness.media_url("")}
    )
    accepted = await call(harness, headers, "video/init/", body)
    publish_id = accepted.json()["data"]["publish_id"]
    assert "upload_url" not in accepted.json()["data"]
    await harness.settle()
    downloading = await status(harness, headers, publish_id)
    assert (downloading["status"], downloading["downloaded_bytes"]) == (
        "PROCESSING_DOWNLOAD",
        40_000,
    )
    harness.sandbox.clock.advance(2)
    assert (await status(harness, headers, publish_id))["status"] == "PUBLISH_COMPLETE"


async def test_pull_failure_is_video_pull_failed(harness: SandboxHarness) -> None:
    headers = await auth(harness)
    await harness.client.post(
        "/_sandbox/tiktok/verified_prefixes", json={"prefix": harness.media_url("")}
    )
    body = {
        "post_info": INFO,
        "source_info": {
            "source": "PULL_FROM_URL",
            "video_url": harness.media_url("c.mp4", status=404),
        },
    }
    publish_id = (await call(harness, headers, "video/init/", body)).json()["data"]["publish_id"]
    await harness.settle()
    harness.sandbox.clock.advance(2)
    failed = await status(harness, headers, publish_id)
    assert (failed["status"], failed["fail_reason"]) == ("FAILED", "video_pull_failed")


async def test_photo_post(harness: SandboxHarness) -> None:
    headers = await auth(harness)
    await harness.client.post(
        "/_sandbox/tiktok/verified_prefixes", json={"prefix": harness.media_url("")}
    )
    images = [harness.media_url("1.jpg"), harness.media_url("2.webp")]
    post_info = {"title": "Buns", "description": "#buns", "privacy_level": "SELF_ONLY"}
    body: dict[str, Any] = {
        "media_type": "PHOTO",
        "post_mode": "DIRECT_POST",
        "post_info": post_info,
        "source_info": {"source": "PULL_FROM_URL", "photo_cover_index": 1, "photo_images": images},
    }
    response = await call(harness, headers, "content/init/", body)
    publish_id = response.json()["data"]["publish_id"]
    assert publish_id.startswith("p_pub_url")
    await harness.settle()
    harness.sandbox.clock.advance(10)
    done = await status(harness, headers, publish_id)
    assert (done["status"], done["publicaly_available_post_id"]) == ("PUBLISH_COMPLETE", [])
    long_title = body | {"post_info": post_info | {"title": "x" * 91}}
    refused = await call(harness, headers, "content/init/", long_title)
    assert refused.json()["error"]["code"] == "invalid_param"


async def test_inbox_upload_and_its_pending_cap(
    make_harness: Callable[..., SandboxHarness],
) -> None:
    h = make_harness(tiktok={"pending_inbox_cap": 1})
    headers = await auth(h)
    video = b"".join(generate("mp4", 3000))
    source = {
        "source": "FILE_UPLOAD",
        "video_size": 3000,
        "chunk_size": 3000,
        "total_chunk_count": 1,
    }
    init = (await call(h, headers, "inbox/video/init/", {"source_info": source})).json()["data"]
    await put(h, init["upload_url"], video, 0, 3000)
    h.sandbox.clock.advance(3)
    assert (await status(h, headers, init["publish_id"]))["status"] == "SEND_TO_USER_INBOX"
    second = await call(h, headers, "inbox/video/init/", {"source_info": source})
    assert (second.status_code, second.json()["error"]["code"]) == (
        403,
        "spam_risk_too_many_pending_share",
    )


@pytest.mark.parametrize(
    ("info", "code"),
    [
        (INFO | {"privacy_level": "FOLLOWER_OF_CREATOR"}, "privacy_level_option_mismatch"),
        ({k: v for k, v in INFO.items() if k != "brand_content_toggle"}, "invalid_param"),
        (INFO | {"title": "x" * 2201}, "invalid_param"),
    ],
)
async def test_post_info_checks(harness: SandboxHarness, info: dict[str, Any], code: str) -> None:
    source = {
        "source": "FILE_UPLOAD",
        "video_size": 3000,
        "chunk_size": 3000,
        "total_chunk_count": 1,
    }
    response = await call(
        harness, await auth(harness), "video/init/", {"post_info": info, "source_info": source}
    )
    assert response.json()["error"]["code"] == code


async def test_unaudited_client_posts_only_self_only_to_private_accounts(
    make_harness: Callable[..., SandboxHarness],
) -> None:
    h = make_harness(tiktok={"audited": False})
    source = {
        "source": "FILE_UPLOAD",
        "video_size": 3000,
        "chunk_size": 3000,
        "total_chunk_count": 1,
    }
    response = await call(
        h, await auth(h), "video/init/", {"post_info": INFO, "source_info": source}
    )
    assert response.json()["error"]["code"] == "unaudited_client_can_only_post_to_private_accounts"


async def test_daily_post_cap_and_banned_creator(
    make_harness: Callable[..., SandboxHarness],
) -> None:
    h = make_harness(tiktok={"daily_post_cap": 1})
    headers = await auth(h)
    await init_file(h, headers, 3000, 3000)
    source = {
        "source": "FILE_UPLOAD",
        "video_size": 3000,
        "chunk_size": 3000,
        "total_chunk_count": 1,
    }
    capped = await call(h, headers, "video/init/", {"post_info": INFO, "source_info": source})
    assert (capped.status_code, capped.json()["error"]["code"]) == (403, "spam_risk_too_many_posts")
    info = await call(h, headers, "creator_info/query/")
    assert (info.status_code, info.json()["error"]["code"]) == (200, "spam_risk_too_many_posts")
    banned = (
        await h.client.post("/_sandbox/tiktok/users", json={"username": "b", "banned": True})
    ).json()
    token = (await h.token("tt_access", banned["open_id"]))["access_token"]
    answer = await call(h, {"Authorization": f"Bearer {token}"}, "creator_info/query/")
    assert answer.json()["error"]["code"] == "spam_risk_user_banned_from_posting"


async def test_per_minute_limit_on_init(harness: SandboxHarness) -> None:
    headers = await auth(harness)
    source = {"source": "FILE_UPLOAD", "video_size": 1, "chunk_size": 2, "total_chunk_count": 1}
    codes = [
        (
            await call(harness, headers, "video/init/", {"post_info": INFO, "source_info": source})
        ).status_code
        for _ in range(7)
    ]
    assert codes == [400] * 6 + [429]
    harness.sandbox.clock.advance(60)
    assert (
        await call(harness, headers, "video/init/", {"post_info": INFO, "source_info": source})
    ).status_code == 400


async def test_token_and_scope_errors(harness: SandboxHarness) -> None:
    missing = await call(harness, {}, "creator_info/query/")
    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "access_token_invalid")
    expired = await auth(harness, lifetime_s=1)
    harness.sandbox.clock.advance(2)
    assert (await call(harness, expired, "creator_info/query/")).json()["error"][
        "code"
    ] == "access_token_invalid"
    narrow = await auth(harness, scopes=["user.info.basic"])
    scoped = await call(harness, narrow, "creator_info/query/")
    assert (scoped.status_code, scoped.json()["error"]["code"]) == (401, "scope_not_authorized")


async def test_status_of_someone_elses_or_unknown_publish(harness: SandboxHarness) -> None:
    headers = await auth(harness)
    init = await init_file(harness, headers, 3000, 3000)
    other = (await harness.client.post("/_sandbox/tiktok/users", json={"username": "o"})).json()
    token = (await harness.token("tt_access", other["open_id"]))["access_token"]
    stranger = await call(
        harness,
        {"Authorization": f"Bearer {token}"},
        "status/fetch/",
        {"publish_id": init["publish_id"]},
    )
    assert stranger.json()["error"]["code"] == "token_not_authorized_for_specified_publish_id"
    unknown = await call(harness, headers, "status/fetch/", {"publish_id": "v_pub_file~nope"})
    assert unknown.json()["error"]["code"] == "invalid_publish_id"


async def test_cancel(harness: SandboxHarness) -> None:
    headers = await auth(harness)
    init = await init_file(harness, headers, 3000, 3000)
    assert (await call(harness, headers, "cancel/", {"publish_id": init["publish_id"]})).json()[
        "error"
    ]["code"] == "ok"
    cancelled = await status(harness, headers, init["publish_id"])
    assert (cancelled["status"], cancelled["fail_reason"]) == ("FAILED", "publish_cancelled")
    again = await call(harness, headers, "cancel/", {"publish_id": init["publish_id"]})
    assert again.json()["error"]["code"] == "publish_not_cancellable"


async def test_deauthorization_webhook(harness: SandboxHarness) -> None:
    inbox = harness.inbox(HOOK)
    await harness.client.put("/_sandbox/webhooks/tiktok", json={"url": HOOK})
    headers = await auth(harness)
    await harness.client.post(
        "/_sandbox/tiktok/deauthorize", json={"open_id": harness.demo.tiktok_open_id, "reason": 1}
    )
    await harness.client.post("/_sandbox/webhooks/deliver")
    body = json.loads(inbox.requests[0].content)
    assert (body["event"], json.loads(body["content"])) == ("authorization.removed", {"reason": 1})
    assert (await call(harness, headers, "creator_info/query/")).json()["error"][
        "code"
    ] == "access_token_invalid"
