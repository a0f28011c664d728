"""Publishing to a Page: feed posts, multi-photo posts, photos, videos, scheduling, updates
(platform-apis.md §1.2)."""

from __future__ import annotations

import json

import pytest

from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
V = "/graph.facebook.com/v23.0"


async def page_token(h: SandboxHarness) -> str:
    token: str = (await h.token("page", h.demo.page_id))["access_token"]
    return token


async def test_feed_post_with_bearer_token_is_published_and_ledgered(
    harness: SandboxHarness,
) -> None:
    token = await page_token(harness)
    response = await harness.client.post(
        f"{V}/{harness.demo.page_id}/feed",
        headers={"Authorization": f"Bearer {token}", "X-Sandbox-Marker": "target-1"},
        data={"message": "Fresh bread at 8", "link": "https://example.com/bread"},
    )
    assert response.status_code == 200
    post_id = response.json()["id"]
    assert post_id.startswith(f"{harness.demo.page_id}_")
    ledger = (await harness.client.get("/_sandbox/ledger", params={"marker": "target-1"})).json()
    assert ledger["count"] == 1
    entry = ledger["entries"][0]
    assert (entry["kind"], entry["object_id"], entry["account"]) == (
        "post_created",
        post_id,
        harness.demo.page_id,
    )
    assert "access_token" not in entry["request"]["params"]


async def test_token_as_access_token_parameter_works_too(harness: SandboxHarness) -> None:
    token = await page_token(harness)
    response = await harness.client.post(
        f"{V}/{harness.demo.page_id}/feed", data={"message": "hi", "access_token": token}
    )
    assert response.status_code == 200


async def test_multi_photo_post_with_json_encoded_attached_media(harness: SandboxHarness) -> None:
    token = await page_token(harness)
    auth = {"Authorization": f"Bearer {token}"}
    photo_ids = []
    for _ in range(2):
        photo = await harness.client.post(
            f"{V}/{harness.demo.page_id}/photos",
            headers=auth,
            data={"url": harness.media_url("p.jpg"), "published": "false"},
        )
        assert photo.status_code == 200
        assert "post_id" not in photo.json()
        photo_ids.append(photo.json()["id"])
    attached = json.dumps([{"media_fbid": pid} for pid in photo_ids])
    post = await harness.client.post(
        f"{V}/{harness.demo.page_id}/feed",
        headers=auth,
        data={"message": "Two loaves", "attached_media": attached},
    )
    assert post.status_code == 200
    read = await harness.client.get(
        f"{V}/{post.json()['id']}", headers=auth, params={"fields": "message,attachments"}
    )
    assert read.json()["attachments"]["data"] == [{"media_fbid": pid} for pid in photo_ids]
    again = await harness.client.post(
        f"{V}/{harness.demo.page_id}/feed",
        headers=auth,
        data={"message": "reuse", "attached_media": attached},
    )
    assert again.status_code == 400
    assert again.json()["error"]["code"] == 100


async def test_php_style_indexed_attached_media_and_json_body(harness: SandboxHarness) -> None:
    token = await page_token(harness)
    auth = {"Authorization": f"Bearer {token}"}
    photo = await harness.client.post(
        f"{V}/{harness.demo.page_id}/photos",
        headers=auth,
        json={"url": harness.media_url("p.png"), "published": False},
    )
    fbid = photo.json()["id"]
    post = await harness.client.post(
        f"{V}/{harness.demo.page_id}/feed",
        headers=auth,
        data={"message": "indexed", "attached_media[0]": json.dumps({"media_fbid": fbid})},
    )
    assert post.status_code == 200


async def test_published_photo_returns_photo_and_post_ids(harness: SandboxHarness) -> None:
    token = await page_token(harness)
    response = await harness.client.post(
        f"{V}/{harness.demo.page_id}/photos",
        params={"access_token": token},
        data={"url": harness.media_url("p.jpg"), "caption": "Croissants"},
    )
    body = response.json()
    assert set(body) == {"id", "post_id"}
    ledger = (
        await harness.client.get("/_sandbox/ledger", params={"kind": "photo_published"})
    ).json()
    assert ledger["entries"][0]["object_id"] == body["post_id"]


async def test_photo_from_an_unreachable_url_is_refused(harness: SandboxHarness) -> None:
    token = await page_token(harness)
    response = await harness.client.post(
        f"{V}/{harness.demo.page_id}/photos",
        params={"access_token": token},
        data={"url": "http://127.0.0.1:9/missing.jpg"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == 324
    assert (await harness.client.get("/_sandbox/ledger")).json()["count"] == 0


async def test_scheduled_post_needs_unpublished_and_a_time_10_minutes_to_30_days_ahead(
    harness: SandboxHarness,
) -> None:
    token = await page_token(harness)
    now = harness.sandbox.clock.now()
    url = f"{V}/{harness.demo.page_id}/feed"
    cases = [
        ({"published": "true", "scheduled_publish_time": str(int(now + 3600))}, 400),
        ({"published": "false", "scheduled_publish_time": str(int(now + 300))}, 400),
        ({"published": "false", "scheduled_publish_time": str(int(now + 31 * 86400))}, 400),
        ({"published": "false", "scheduled_publish_time": str(int(now + 3600))}, 200),
    ]
    for extra, status in cases:
        response = await harness.client.post(
            url,
            params={"access_token": token},
            data={"message": f"later {status} {extra}", **extra},
        )
        assert response.status_code == status, extra
    entries = (await harness.client.get("/_sandbox/ledger")).json()["entries"]
    assert [e["kind"] for e in entries] == ["post_scheduled"]


async def test_the_same_text_twice_in_a_row_is_a_duplicate(harness: SandboxHarness) -> None:
    token = await page_token(harness)
    url = f"{V}/{harness.demo.page_id}/feed"
    first = await harness.client.post(url, params={"access_token": token}, data={"message": "x"})
    second = await harness.client.post(url, params={"access_token": token}, data={"message": "x"})
    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["error"]["code"] == 506


async def test_empty_post_is_refused(harness: SandboxHarness) -> None:
    token = await page_token(harness)
    response = await harness.client.post(
        f"{V}/{harness.demo.page_id}/feed", params={"access_token": token}, data={}
    )
    assert response.json()["error"]["code"] == 100


async def test_video_from_file_url_processes_then_is_ready(harness: SandboxHarness) -> None:
    token = await page_token(harness)
    response = await harness.client.post(
        f"/graph-video.facebook.com/v23.0/{harness.demo.page_id}/videos",
        params={"access_token": token},
        data={"file_url": harness.media_url("clip.mp4"), "title": "Kneading", "description": "d"},
    )
    assert response.status_code == 200
    video_id = response.json()["id"]
    await harness.settle()

    async def status() -> str:
        read = await harness.client.get(
            f"{V}/{video_id}", params={"access_token": token, "fields": "status"}
        )
        value: str = read.json()["status"]["video_status"]
        return value

    assert await status() == "processing"
    harness.sandbox.clock.advance(10)
    assert await status() == "ready"


async def test_video_that_is_not_a_video_ends_in_error(harness: SandboxHarness) -> None:
    token = await page_token(harness)
    response = await harness.client.post(
        f"{V}/{harness.demo.page_id}/videos",
        params={"access_token": token},
        data={"file_url": harness.media_url("notes.pdf")},
    )
    await harness.settle()
    harness.sandbox.clock.advance(10)
    read = await harness.client.get(
        f"{V}/{response.json()['id']}", params={"access_token": token, "fields": "status"}
    )
    assert read.json()["status"]["video_status"] == "error"


async def test_video_from_a_remote_url_is_refused(harness: SandboxHarness) -> None:
    token = await page_token(harness)
    response = await harness.client.post(
        f"{V}/{harness.demo.page_id}/videos",
        params={"access_token": token},
        data={"file_url": "https://cdn.example.com/clip.mp4"},
    )
    assert response.json()["error"]["code"] == 100


async def test_update_and_delete_a_post(harness: SandboxHarness) -> None:
    token = await page_token(harness)
    params = {"access_token": token}
    post_id = (
        await harness.client.post(
            f"{V}/{harness.demo.page_id}/feed", params=params, data={"message": "v1"}
        )
    ).json()["id"]
    updated = await harness.client.post(f"{V}/{post_id}", params=params, data={"message": "v2"})
    assert updated.json() == {"success": True}
    read = await harness.client.get(f"{V}/{post_id}", params=params)
    assert read.json()["message"] == "v2"
    deleted = await harness.client.delete(f"{V}/{post_id}", params=params)
    assert deleted.json() == {"success": True}
    gone = await harness.client.get(f"{V}/{post_id}", params=params)
    assert gone.json()["error"]["error_subcode"] == 33
    kinds = [e["kind"] for e in (await harness.client.get("/_sandbox/ledger")).json()["entries"]]
    assert kinds == ["post_created", "post_updated", "post_deleted"]


async def test_feed_lists_newest_first(harness: SandboxHarness) -> None:
    token = await page_token(harness)
    params = {"access_token": token}
    for text in ("one", "two"):
        await harness.client.post(
            f"{V}/{harness.demo.page_id}/feed", params=params, data={"message": text}
        )
        harness.sandbox.clock.advance(1)
    feed = await harness.client.get(f"{V}/{harness.demo.page_id}/feed", params=params)
    assert [p["message"] for p in feed.json()["data"]] == ["two", "one"]


async def test_page_videos_lists_the_pages_videos_newest_first(harness: SandboxHarness) -> None:
    token = await page_token(harness)
    ids = []
    for description in ("first", "second"):
        response = await harness.client.post(
            f"{V}/{harness.demo.page_id}/videos",
            params={"access_token": token},
            data={"file_url": harness.media_url("clip.mp4"), "description": description},
        )
        ids.append(response.json()["id"])
        harness.sandbox.clock.advance(1)
    listed = await harness.client.get(
        f"{V}/{harness.demo.page_id}/videos",
        params={"access_token": token, "fields": "id,description,created_time,permalink_url"},
    )
    assert listed.status_code == 200
    data = listed.json()["data"]
    assert [v["id"] for v in data] == list(reversed(ids))
    assert [v["description"] for v in data] == ["second", "first"]
    assert data[0]["permalink_url"] == f"/{harness.demo.page_id}/videos/{ids[1]}/"
    limited = await harness.client.get(
        f"{V}/{harness.demo.page_id}/videos", params={"access_token": token, "limit": 1}
    )
    assert set(limited.json()["data"][0]) == {"id", "description", "updated_time"}
    assert len(limited.json()["data"]) == 1
