"""Instagram content publishing (platform-apis.md §2.2, §2.4): containers and their
`status_code`, `media_publish`, carousels, the rolling quota, media checks, both hosts."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from platform_sandbox.testing import SandboxHarness

pytestmark = pytest.mark.unit
FB = "/graph.facebook.com/v23.0"
IG = "/graph.instagram.com/v23.0"


async def fb_token(h: SandboxHarness) -> str:
    token: str = (await h.token("page", h.demo.page_id))["access_token"]
    return token


async def create(h: SandboxHarness, token: str, host: str = FB, **params: str) -> httpx.Response:
    return await h.client.post(
        f"{host}/{h.demo.ig_user_id}/media",
        data=params,
        headers={"Authorization": f"Bearer {token}"},
    )


async def status(h: SandboxHarness, token: str, container_id: str, host: str = FB) -> str:
    response = await h.client.get(
        f"{host}/{container_id}", params={"fields": "status_code,status", "access_token": token}
    )
    value: str = response.json()["status_code"]
    return value


async def publish(
    h: SandboxHarness, token: str, container_id: str, host: str = FB
) -> httpx.Response:
    return await h.client.post(
        f"{host}/{h.demo.ig_user_id}/media_publish",
        data={"creation_id": container_id},
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_image_post_end_to_end_with_facebook_login(harness: SandboxHarness) -> None:
    token = await fb_token(harness)
    made = await create(harness, token, image_url=harness.media_url("a.jpg"), caption="Rye #bread")
    container = made.json()["id"]
    assert await status(harness, token, container) == "FINISHED"
    published = await publish(harness, token, container)
    media_id = published.json()["id"]
    assert await status(harness, token, container) == "PUBLISHED"
    media = await harness.client.get(
        f"{FB}/{media_id}",
        params={"access_token": token, "fields": "media_type,media_product_type,permalink,caption"},
    )
    body = media.json()
    assert (body["media_type"], body["media_product_type"]) == ("IMAGE", "FEED")
    assert body["permalink"].startswith("https://www.instagram.com/p/")
    entries = (
        await harness.client.get("/_sandbox/ledger", params={"platform": "instagram"})
    ).json()
    assert [e["object_id"] for e in entries["entries"]] == [media_id]
    again = await publish(harness, token, container)
    error = again.json()["error"]
    assert (error["code"], error["error_subcode"]) == (24, 2207008)


async def test_instagram_login_host_works_the_same(harness: SandboxHarness) -> None:
    token = (await harness.token("ig_long", harness.demo.ig_user_id))["access_token"]
    made = await create(harness, token, IG, image_url=harness.media_url("a.jpg"))
    published = await publish(harness, token, made.json()["id"], IG)
    assert published.status_code == 200


async def test_reel_is_in_progress_until_processed(harness: SandboxHarness) -> None:
    token = await fb_token(harness)
    made = await create(
        harness,
        token,
        media_type="REELS",
        video_url=harness.media_url("r.mp4"),
        share_to_feed="true",
    )
    container = made.json()["id"]
    assert await status(harness, token, container) == "IN_PROGRESS"
    early = (await publish(harness, token, container)).json()["error"]
    assert (early["code"], early["error_subcode"]) == (9007, 2207027)
    await harness.settle()
    harness.sandbox.clock.advance(16)
    assert await status(harness, token, container) == "FINISHED"
    media_id = (await publish(harness, token, container)).json()["id"]
    media = harness.sandbox.state.instagram.media[media_id]
    assert (media.media_type, media.media_product_type) == ("VIDEO", "REELS")


async def test_video_that_cannot_be_fetched_turns_the_container_to_error(
    harness: SandboxHarness,
) -> None:
    token = await fb_token(harness)
    made = await create(
        harness, token, media_type="REELS", video_url=harness.media_url("r.mp4", status=404)
    )
    await harness.settle()
    harness.sandbox.clock.advance(16)
    response = await harness.client.get(
        f"{FB}/{made.json()['id']}", params={"fields": "status_code,status", "access_token": token}
    )
    assert response.json()["status_code"] == "ERROR"
    assert "2207052" in response.json()["status"]


async def test_unpublished_container_expires_after_24_hours(harness: SandboxHarness) -> None:
    token = await fb_token(harness)
    container = (await create(harness, token, image_url=harness.media_url("a.jpg"))).json()["id"]
    harness.sandbox.clock.advance(86_400)
    assert await status(harness, token, container) == "EXPIRED"
    error = (await publish(harness, token, container)).json()["error"]
    assert error["error_subcode"] == 2207008


async def test_carousel_with_children(harness: SandboxHarness) -> None:
    token = await fb_token(harness)
    children = [
        (
            await create(
                harness, token, image_url=harness.media_url(f"{i}.jpg"), is_carousel_item="true"
            )
        ).json()["id"]
        for i in range(3)
    ]
    too_few = await create(harness, token, media_type="CAROUSEL", children=children[0])
    assert too_few.json()["error"]["error_subcode"] == 2207028
    parent = await create(
        harness, token, media_type="CAROUSEL", children=",".join(children), caption="Three"
    )
    assert await status(harness, token, parent.json()["id"]) == "FINISHED"
    child_alone = (await publish(harness, token, children[0])).json()["error"]
    assert child_alone["code"] == 100
    media_id = (await publish(harness, token, parent.json()["id"])).json()["id"]
    listed = await harness.client.get(f"{FB}/{media_id}/children", params={"access_token": token})
    assert len(listed.json()["data"]) == 3
    assert harness.sandbox.state.instagram.media[media_id].media_type == "CAROUSEL_ALBUM"


async def test_carousel_waits_for_its_video_child(harness: SandboxHarness) -> None:
    token = await fb_token(harness)
    image = (
        await create(harness, token, image_url=harness.media_url("a.jpg"), is_carousel_item="true")
    ).json()["id"]
    video = (
        await create(
            harness,
            token,
            media_type="VIDEO",
            video_url=harness.media_url("v.mp4"),
            is_carousel_item="true",
        )
    ).json()["id"]
    parent = (
        await create(harness, token, media_type="CAROUSEL", children=f"{image},{video}")
    ).json()["id"]
    assert await status(harness, token, parent) == "IN_PROGRESS"
    await harness.settle()
    harness.sandbox.clock.advance(16)
    assert await status(harness, token, parent) == "FINISHED"


async def test_publishing_quota_over_a_rolling_day(
    make_harness: Callable[..., SandboxHarness],
) -> None:
    h = make_harness(instagram={"publish_quota_total": 2})
    token = await fb_token(h)
    for _ in range(2):
        container = (await create(h, token, image_url=h.media_url("a.jpg"))).json()["id"]
        assert (await publish(h, token, container)).status_code == 200
    third = (await create(h, token, image_url=h.media_url("a.jpg"))).json()["id"]
    error = (await publish(h, token, third)).json()["error"]
    assert (error["code"], error["error_subcode"]) == (9, 2207042)
    limit = await h.client.get(
        f"{FB}/{h.demo.ig_user_id}/content_publishing_limit",
        params={"fields": "quota_usage,config", "access_token": token},
    )
    assert limit.json() == {
        "data": [{"quota_usage": 2, "config": {"quota_total": 2, "quota_duration": 86400}}]
    }
    h.sandbox.clock.advance(86_400)
    fresh = (await create(h, token, image_url=h.media_url("a.jpg"))).json()["id"]
    assert (await publish(h, token, fresh)).status_code == 200


@pytest.mark.parametrize(
    ("name", "params", "code", "subcode"),
    [
        ("a.jpg", {"status": 404}, 9004, 2207052),
        ("a.png", {}, 36001, 2207005),
        ("a.jpg", {"bytes": 9 * 1024 * 1024}, 36000, 2207004),
        ("a.jpg", {"width": 3000, "height": 1000}, 36003, 2207009),
    ],
)
async def test_image_checks(
    harness: SandboxHarness, name: str, params: dict[str, int], code: int, subcode: int
) -> None:
    token = await fb_token(harness)
    response = await create(harness, token, image_url=harness.media_url(name, **params))
    error = response.json()["error"]
    assert (error["code"], error["error_subcode"]) == (code, subcode)


async def test_caption_limits(harness: SandboxHarness) -> None:
    token = await fb_token(harness)
    url = harness.media_url("a.jpg")
    long = await create(harness, token, image_url=url, caption="x" * 2201)
    tags = await create(
        harness, token, image_url=url, caption=" ".join(f"#t{i}" for i in range(31))
    )
    for response in (long, tags):
        assert response.json()["error"]["error_subcode"] == 2207010


async def test_single_feed_video_type_is_refused(harness: SandboxHarness) -> None:
    token = await fb_token(harness)
    response = await create(
        harness, token, media_type="VIDEO", video_url=harness.media_url("v.mp4")
    )
    assert response.json()["error"]["error_subcode"] == 2207023


async def test_publishing_needs_the_content_publish_permission(harness: SandboxHarness) -> None:
    token = (await harness.token("page", harness.demo.page_id, scopes=["instagram_basic"]))[
        "access_token"
    ]
    response = await create(harness, token, image_url=harness.media_url("a.jpg"))
    assert response.json()["error"]["code"] == 10


async def test_container_cap(make_harness: Callable[..., SandboxHarness]) -> None:
    h = make_harness(instagram={"container_cap": 1})
    token = await fb_token(h)
    assert (await create(h, token, image_url=h.media_url("a.jpg"))).status_code == 200
    assert (await create(h, token, image_url=h.media_url("a.jpg"))).json()["error"]["code"] == 9
