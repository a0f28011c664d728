"""The Instagram flows against a fake account: kinds, container states, waits, quota and
reconciliation after lost answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from herald.content import InstagramKind, InstagramOptions, Media, MediaKind, PostContent
from herald.errors import Permanent, Throttled
from herald.events import PostRequested, ProcessingStage
from herald.graph import AmbiguousOutcome
from herald.runtime.ports import Checkpoint, Credentials, Published, Wait
from herald.runtime.progress import Report
from herald.topics import Platform
from publisher_instagram.domain import (
    CHILDREN_CREATED,
    CONTAINER_CREATED,
    MEDIA_PUBLISHED,
    PUBLISH_CALL_STARTED,
)
from publisher_instagram.handlers import FlowSettings, InstagramPublisher
from publisher_instagram.testing import FakeAccount

pytestmark = pytest.mark.unit

CREDENTIALS = Credentials("page-token", "ig-1", {"ig_user_id": "ig-1"})
JPG = "http://127.0.0.1:8120/_sandbox/media/a.jpg"
MP4 = "http://127.0.0.1:8120/_sandbox/media/v.mp4"
NOW = 1_800_000_000.0


def image(n: int = 0) -> dict[str, Any]:
    return {"kind": MediaKind.IMAGE, "url": f"{JPG}?n={n}", "alt_text": f"loaf {n}"}


def video(n: int = 0) -> dict[str, Any]:
    return {"kind": MediaKind.VIDEO, "url": f"{MP4}?n={n}"}


def request(
    kind: InstagramKind, *media: dict[str, Any], text: str | None = "Rye #bread", **options: Any
) -> PostRequested:
    now = datetime.now(UTC)
    return PostRequested(
        post_id="p1",
        target_id="t1",
        business_id="b1",
        integration_id="i1",
        platform=Platform.INSTAGRAM,
        content=PostContent(text=text, media=[Media.model_validate(m) for m in media]),
        options=InstagramOptions(kind=kind, **options),
        due_at=now,
        requested_at=now,
    )


class Flow:
    """A publisher, a fake account and the checkpoint the ledger would keep between runs."""

    def __init__(self, **account: Any) -> None:
        self.account = FakeAccount(clock=lambda: NOW, **account)
        self.publisher = InstagramPublisher(
            self.account,
            FlowSettings(container_poll_s=30.0),
            clock=lambda: datetime.fromtimestamp(NOW, UTC),
        )
        self.steps: list[str] = []
        # Each report within a handling, with how many media were published when it came.
        self.reports: list[tuple[Report, int]] = []
        self.checkpoint = Checkpoint(None, {}, self._save)

    async def _save(self, step: str, data: dict[str, Any]) -> None:
        self.steps.append(step)

    async def _report(self, report: Report) -> None:
        self.reports.append((report, len(self.account.published)))

    async def run(self, req: PostRequested) -> Any:
        self.checkpoint = Checkpoint(
            self.checkpoint.step, self.checkpoint.data, self._save, reporter=self._report
        )
        return await self.publisher.publish(req, CREDENTIALS, self.checkpoint)


async def test_an_image_is_created_checked_for_quota_then_published_once() -> None:
    flow = Flow()

    outcome = await flow.run(request(InstagramKind.FEED, image(), collaborators=["ana"]))

    [media] = flow.account.published
    assert outcome == Published(media.id, media.permalink)
    [container] = flow.account.containers.values()
    assert container.params == {
        "image_url": f"{JPG}?n=0",
        "caption": "Rye #bread",
        "alt_text": "loaf 0",
        "collaborators": ["ana"],
        "location_id": None,
    }
    assert flow.steps == [CONTAINER_CREATED, PUBLISH_CALL_STARTED, MEDIA_PUBLISHED]
    assert flow.account.calls.index("quota") < flow.account.calls.index("publish")


async def test_a_reel_waits_for_processing_through_the_tiers() -> None:
    flow = Flow(processing=True)
    req = request(InstagramKind.REEL, video(), share_to_feed=False, thumb_offset_ms=1500)

    first = await flow.run(req)
    assert isinstance(first, Wait)
    assert (first.step, first.delay_s) == (CONTAINER_CREATED, 30.0)
    assert first.stage is ProcessingStage.PROCESSING
    assert flow.reports == []  # nothing to publish yet
    flow.account.finish_all()
    second = await flow.run(req)

    assert isinstance(second, Published)
    # Once the container was FINISHED, the target read `publishing` before media_publish ran.
    [(report, published_then)] = flow.reports
    assert (report.stage, published_then) == (ProcessingStage.PUBLISHING, 0)
    assert "FINISHED" in report.detail
    [container] = flow.account.containers.values()
    assert container.params["media_type"] == "REELS"
    assert container.params["share_to_feed"] is False
    assert container.params["thumb_offset"] == 1500
    assert flow.account.count("create_container") == 1
    assert flow.account.published[0].product_type == "REELS"


async def test_a_single_feed_video_is_published_as_a_reel() -> None:
    flow = Flow()
    await flow.run(request(InstagramKind.FEED, video()))
    assert flow.account.published[0].product_type == "REELS"


async def test_a_story_takes_no_caption() -> None:
    flow = Flow()

    outcome = await flow.run(request(InstagramKind.STORY, image()))

    assert isinstance(outcome, Published)
    [container] = flow.account.containers.values()
    assert container.params == {"media_type": "STORIES", "image_url": f"{JPG}?n=0"}
    assert flow.account.published[0].product_type == "STORY"


async def test_a_carousel_waits_for_its_video_items_then_publishes_one_parent() -> None:
    flow = Flow(processing=True)
    req = request(InstagramKind.CAROUSEL, image(0), video(1), image(2))

    first = await flow.run(req)
    assert isinstance(first, Wait)
    assert first.step == CHILDREN_CREATED
    assert flow.account.count("create_container") == 3  # the items; no parent yet
    flow.account.finish_all()
    second = await flow.run(req)

    assert isinstance(second, Published)
    assert flow.account.count("create_container") == 4
    children = flow.checkpoint.data["children"]
    parent = flow.account.containers[flow.checkpoint.data["container_id"]]
    assert parent.params["children"] == children
    assert parent.params["media_type"] == "CAROUSEL"
    items = [flow.account.containers[c].params for c in children]
    assert [p.get("media_type") for p in items] == [None, "VIDEO", None]
    assert all(p["is_carousel_item"] is True for p in items)
    assert len(flow.account.published) == 1


async def test_a_redelivery_of_a_published_container_finds_the_media_and_never_republishes() -> (
    None
):
    flow = Flow()
    req = request(InstagramKind.FEED, image())
    await flow.run(req)
    # the process died after media_publish and before the ledger recorded it
    flow.checkpoint = Checkpoint(PUBLISH_CALL_STARTED, dict(flow.checkpoint.data), flow._save)

    outcome = await flow.run(req)

    [media] = flow.account.published
    assert outcome == Published(media.id, media.permalink)
    assert flow.account.count("publish") == 1


async def test_an_ambiguous_publish_that_went_out_is_reconciled_from_the_container() -> None:
    flow = Flow()
    flow.account.fail_after["publish"] = [AmbiguousOutcome("read timed out")]

    outcome = await flow.run(request(InstagramKind.FEED, image()))

    [media] = flow.account.published
    assert outcome == Published(media.id, media.permalink)
    assert flow.account.calls[-4:-2] == ["publish", "container"]  # the status was read first


async def test_an_ambiguous_publish_that_did_not_go_out_publishes_on_retry() -> None:
    flow = Flow()
    flow.account.fail_before["publish"] = [AmbiguousOutcome("HTTP 500")]
    req = request(InstagramKind.FEED, image())

    with pytest.raises(AmbiguousOutcome):
        await flow.run(req)
    outcome = await flow.run(req)

    assert isinstance(outcome, Published)
    assert len(flow.account.published) == 1
    assert flow.account.count("create_container") == 1


async def test_an_expired_container_is_replaced() -> None:
    flow = Flow(processing=True)
    req = request(InstagramKind.REEL, video())
    await flow.run(req)
    first = flow.checkpoint.data["container_id"]
    flow.account.containers[first].status = "EXPIRED"

    await flow.run(req)  # a new container, itself processing
    flow.account.finish_all()
    outcome = await flow.run(req)

    assert isinstance(outcome, Published)
    assert flow.checkpoint.data["container_id"] != first
    assert flow.account.containers[first].status == "EXPIRED"


async def test_a_container_whose_media_is_unusable_fails_for_good() -> None:
    flow = Flow(processing=True)
    req = request(InstagramKind.REEL, video())
    await flow.run(req)
    flow.account.containers[flow.checkpoint.data["container_id"]].status = "ERROR"

    with pytest.raises(Permanent) as raised:
        await flow.run(req)
    assert raised.value.subcode == "2207026"


async def test_an_exhausted_quota_defers_until_the_oldest_publish_leaves_the_window() -> None:
    flow = Flow(quota_total=3)
    flow.account.publishes = [NOW - 20 * 3600, NOW - 3600, NOW - 60]

    with pytest.raises(Throttled) as raised:
        await flow.run(request(InstagramKind.FEED, image()))

    wait = raised.value.retry_after_s
    assert wait is not None
    # the oldest publish leaves the 24 h window in 4 h; 8 probes place it within 24 h / 256
    assert 4 * 3600 <= wait <= 4 * 3600 + 86_400 / 256 + 1
    assert (raised.value.code, raised.value.subcode) == ("9", "2207042")
    assert flow.account.count("publish") == 0


async def test_a_quota_refusal_at_publish_time_is_deferred_with_the_window_too() -> None:
    flow = Flow(quota_total=1)
    req = request(InstagramKind.FEED, image())
    read_quota = flow.account.quota

    async def then_another_app_publishes(token: str, ig: str, *, since: int | None = None) -> Any:
        answer = await read_quota(token, ig, since=since)
        if flow.account.count("quota") == 1:
            flow.account.publishes.append(NOW - 600)  # the last slot goes after our read
        return answer

    flow.account.quota = then_another_app_publishes  # type: ignore[method-assign, assignment]  # a race

    with pytest.raises(Throttled) as raised:
        await flow.run(req)
    assert raised.value.retry_after_s is not None
    assert raised.value.retry_after_s > 23 * 3600
