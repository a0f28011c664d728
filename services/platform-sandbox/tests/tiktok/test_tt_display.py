"""Display API reads (platform-apis.md §4.3): user info by scope, video query and list."""

from __future__ import annotations

import pytest

from platform_sandbox.media.synthetic import generate
from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
API = "/open.tiktokapis.com/v2"


async def headers(h: SandboxHarness, scopes: list[str] | None = None) -> dict[str, str]:
    options = {} if scopes is None else {"scopes": scopes}
    token = (await h.token("tt_access", h.demo.tiktok_open_id, **options))["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def published_video(h: SandboxHarness, auth: dict[str, str]) -> str:
    video = b"".join(generate("mp4", 2000))
    source = {
        "source": "FILE_UPLOAD",
        "video_size": 2000,
        "chunk_size": 2000,
        "total_chunk_count": 1,
    }
    info = {"title": "Loaf", "privacy_level": "PUBLIC_TO_EVERYONE", "brand_content_toggle": False}
    init = await h.client.post(
        f"{API}/post/publish/video/init/",
        headers=auth,
        json={"post_info": info, "source_info": source},
    )
    data = init.json()["data"]
    await h.client.put(
        data["upload_url"],
        content=video,
        headers={"Content-Type": "video/mp4", "Content-Range": "bytes 0-1999/2000"},
    )
    h.sandbox.clock.advance(10)
    state = await h.client.post(
        f"{API}/post/publish/status/fetch/", headers=auth, json={"publish_id": data["publish_id"]}
    )
    return str(state.json()["data"]["publicaly_available_post_id"][0])


async def test_user_info_by_scope(harness: SandboxHarness) -> None:
    fields = "open_id,display_name,username,follower_count"
    full = await harness.client.get(
        f"{API}/user/info/", params={"fields": fields}, headers=await headers(harness)
    )
    user = full.json()["data"]["user"]
    assert set(user) == set(fields.split(","))
    basic = await headers(harness, ["user.info.basic"])
    missed = await harness.client.get(f"{API}/user/info/", params={"fields": fields}, headers=basic)
    assert (missed.status_code, missed.json()["error"]["code"]) == (401, "scope_permission_missed")
    unknown = await harness.client.get(
        f"{API}/user/info/", params={"fields": "nope"}, headers=basic
    )
    assert unknown.json()["error"]["code"] == "invalid_params"


async def test_video_query_and_list(harness: SandboxHarness) -> None:
    auth = await headers(harness)
    video_id = await published_video(harness, auth)
    fields = {"fields": "id,title,view_count,like_count,share_url"}
    query = await harness.client.post(
        f"{API}/video/query/",
        params=fields,
        headers=auth,
        json={"filters": {"video_ids": [video_id]}},
    )
    [video] = query.json()["data"]["videos"]
    assert (video["id"], video["title"]) == (video_id, "Loaf")
    too_many = await harness.client.post(
        f"{API}/video/query/",
        params=fields,
        headers=auth,
        json={"filters": {"video_ids": [str(i) for i in range(21)]}},
    )
    assert too_many.json()["error"]["code"] == "invalid_params"
    listed = await harness.client.post(
        f"{API}/video/list/", params=fields, headers=auth, json={"max_count": 20}
    )
    data = listed.json()["data"]
    assert ([v["id"] for v in data["videos"]], data["has_more"]) == ([video_id], False)
