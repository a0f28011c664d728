"""The Facebook flows against a fake Page: every shape, every checkpoint, every reconciliation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from herald.content import FacebookOptions, Media, MediaKind, PostContent
from herald.errors import Permanent, Transient, Unknown
from herald.events import PostRequested
from herald.graph import AmbiguousOutcome
from herald.runtime.ports import Checkpoint, Credentials, Published, Wait
from herald.topics import Platform
from publisher_facebook.domain import FEED_CALL_STARTED, PHOTOS_UPLOADING, VIDEO_PROCESSING
from publisher_facebook.handlers import FacebookPublisher, FlowSettings
from publisher_facebook.ports import PagePost
from publisher_facebook.testing import FakePage

pytestmark = pytest.mark.unit

CREDENTIALS = Credentials("page-token", "page-1", {"page_id": "page-1"})
PHOTO = "http://127.0.0.1:8120/_sandbox/media/a.jpg"
VIDEO = "http://127.0.0.1:8120/_sandbox/media/v.mp4"


def request(
    text: str | None = "Fresh rye today", *media: Media, link: str | None = None
) -> PostRequested:
    now = datetime.now(UTC)
    return PostRequested(
        post_id="p1",
        target_id="t1",
        business_id="b1",
        integration_id="i1",
        platform=Platform.FACEBOOK,
        content=PostContent.model_validate({"text": text, "link": link, "media": list(media)}),
        options=FacebookOptions(video_title="Bakery tour"),
        due_at=now,
        requested_at=now,
    )


def image(n: int = 0) -> Media:
    return Media(kind=MediaKind.IMAGE, url=f"{PHOTO}?n={n}", alt_text=f"loaf {n}")  # type: ignore[arg-type]  # pydantic coerces the URL


def video() -> Media:
    return Media(kind=MediaKind.VIDEO, url=VIDEO)  # type: ignore[arg-type]  # pydantic coerces the URL


class Saved:
    """A checkpoint whose saves are kept, as the ledger would keep them."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.checkpoint = Checkpoint(None, {}, self._save)

    async def _save(self, step: str, data: dict[str, Any]) -> None:
        self.steps.append(step)

    def again(self) -> Checkpoint:
        """The checkpoint a redelivery would read back."""
        self.checkpoint = Checkpoint(self.checkpoint.step, self.checkpoint.data, self._save)
        return self.checkpoint


def setup() -> tuple[FacebookPublisher, FakePage, Saved]:
    page = FakePage()
    saved = Saved()
    page.checkpoint = saved.checkpoint
    return FacebookPublisher(page, FlowSettings(video_poll_s=7.0)), page, saved


async def run(
    publisher: FacebookPublisher, page: FakePage, saved: Saved, req: PostRequested
) -> Any:
    page.checkpoint = saved.again()
    return await publisher.publish(req, CREDENTIALS, saved.checkpoint)


async def test_a_text_post_marks_the_call_started_before_posting() -> None:
    publisher, page, saved = setup()

    outcome = await run(publisher, page, saved, request("Fresh rye today"))

    [post] = page.visible
    assert outcome == Published(post.id, f"https://www.facebook.com/{post.id}")
    assert page.ops("create_post") == [FEED_CALL_STARTED]
    assert saved.checkpoint.data["marker"]


async def test_a_link_post_sends_the_link() -> None:
    publisher, page, saved = setup()

    await run(publisher, page, saved, request("Our menu", link="https://bakery.example/menu"))

    assert page.visible[0].link == "https://bakery.example/menu"


async def test_one_photo_is_a_published_photos_call() -> None:
    publisher, page, saved = setup()

    outcome = await run(publisher, page, saved, request("Rye", image()))

    assert isinstance(outcome, Published)
    assert page.ops("publish_photo") == [FEED_CALL_STARTED]
    assert page.ops("create_post") == []


async def test_photos_are_uploaded_once_even_when_a_retry_follows_a_failed_upload() -> None:
    publisher, page, saved = setup()
    req = request("Three loaves", image(0), image(1), image(2))
    # The first upload succeeds; the second fails before it happens.
    page.fail_on_call["upload_photo"] = (2, Transient("connection refused"))

    with pytest.raises(Transient):
        await run(publisher, page, saved, req)
    assert saved.checkpoint.step == PHOTOS_UPLOADING
    assert len(saved.checkpoint.data["photo_ids"]) == 1
    outcome = await run(publisher, page, saved, req)

    assert isinstance(outcome, Published)
    assert len(page.photos) == 3  # one per image: the first was not uploaded again
    assert all(page.photos.values())  # every upload is attached to the one post
    assert len(page.visible) == 1


async def test_a_video_is_followed_through_waits_until_ready() -> None:
    publisher, page, saved = setup()
    req = request("Tour", video())

    first = await run(publisher, page, saved, req)
    assert isinstance(first, Wait)
    assert (first.step, first.delay_s) == (VIDEO_PROCESSING, 7.0)
    [video_id] = page.videos
    page.videos[video_id] = "ready"
    second = await run(publisher, page, saved, req)

    assert second == Published(
        f"page-1_{video_id}", f"https://www.facebook.com/page-1/videos/{video_id}/"
    )
    assert page.ops("create_video") == [FEED_CALL_STARTED]  # the resume did not upload again


async def test_a_video_facebook_cannot_process_fails_for_good() -> None:
    publisher, page, saved = setup()
    req = request("Tour", video())
    await run(publisher, page, saved, req)
    page.videos[next(iter(page.videos))] = "error"

    with pytest.raises(Permanent) as raised:
        await run(publisher, page, saved, req)
    assert raised.value.code == "video_status_error"


async def test_an_ambiguous_feed_call_that_went_out_is_reconciled_not_repeated() -> None:
    publisher, page, saved = setup()
    page.fail_after["create_post"] = [AmbiguousOutcome("read timed out")]

    outcome = await run(publisher, page, saved, request("Fresh rye today"))

    [post] = page.visible
    assert isinstance(outcome, Published)
    assert outcome.platform_post_id == post.id
    assert page.ops("recent_posts") == [FEED_CALL_STARTED]


async def test_an_ambiguous_feed_call_that_did_not_go_out_is_retried_after_a_check() -> None:
    publisher, page, saved = setup()
    page.fail_before["create_post"] = [AmbiguousOutcome("HTTP 500")]
    req = request("Fresh rye today")

    with pytest.raises(AmbiguousOutcome):
        await run(publisher, page, saved, req)
    assert page.visible == []
    outcome = await run(publisher, page, saved, req)

    assert isinstance(outcome, Published)
    assert len(page.visible) == 1
    # the retry looked at the Page first, then posted
    assert [op for op, _ in page.calls] == [
        "create_post",
        "recent_posts",
        "recent_posts",
        "create_post",
    ]


async def test_a_redelivery_after_a_crash_in_the_call_finds_the_post() -> None:
    publisher, page, saved = setup()
    req = request("Fresh rye today")
    await run(publisher, page, saved, req)
    # the process died after Graph answered and before the ledger recorded it: same checkpoint

    outcome = await run(publisher, page, saved, req)

    assert isinstance(outcome, Published)
    assert len(page.visible) == 1
    assert page.ops("create_post") == [FEED_CALL_STARTED]


async def test_an_older_post_with_the_same_text_is_not_taken_for_ours() -> None:
    publisher, page, saved = setup()
    old = datetime.now(UTC) - timedelta(hours=2)
    page.posts.append(PagePost("page-1_1", "Fresh rye today", None, old))
    page.fail_before["create_post"] = [AmbiguousOutcome("dropped")]
    req = request("Fresh rye today")

    with pytest.raises(AmbiguousOutcome):
        await run(publisher, page, saved, req)
    outcome = await run(publisher, page, saved, req)

    assert isinstance(outcome, Published)
    assert outcome.platform_post_id != "page-1_1"
    assert len(page.visible) == 2


async def test_an_ambiguous_video_upload_that_cannot_be_checked_is_unknown() -> None:
    publisher, page, saved = setup()
    page.fail_after["create_video"] = [AmbiguousOutcome("dropped")]
    page.fail_before["recent_videos"] = [Permanent("(#100) nonexisting field (videos)", code="100")]

    with pytest.raises(Unknown) as raised:
        await run(publisher, page, saved, request("Tour", video()))
    assert raised.value.code == "unverifiable_video"
    assert len(page.videos) == 1


async def test_an_ambiguous_video_upload_that_went_out_is_followed_not_repeated() -> None:
    publisher, page, saved = setup()
    page.fail_after["create_video"] = [AmbiguousOutcome("dropped")]

    outcome = await run(publisher, page, saved, request("Tour", video()))

    assert isinstance(outcome, Wait)
    assert saved.checkpoint.data["video_id"] in page.videos
    assert len(page.videos) == 1


def test_content_rules_are_checked_again_before_publishing() -> None:
    publisher, _, _ = setup()
    violations = publisher.validate(request("Mixed", image(), video()))
    assert {v.code for v in violations} == {"mixed_media"}


def opened(publisher: FacebookPublisher, saved: Saved, req: PostRequested) -> None:
    """As the runtime gives a first handling's checkpoint: the entry created with `opening`."""
    opening = publisher.opening(req)
    assert opening is not None
    saved.checkpoint = Checkpoint(opening.step, opening.data, saved._save, first=True)


@pytest.mark.parametrize(
    "req",
    [request("Fresh rye today"), request("Rye", image()), request("Tour", video())],
    ids=["text", "photo", "video"],
)
async def test_a_first_handling_starts_with_the_call_marked_and_neither_saves_nor_looks(
    req: PostRequested,
) -> None:
    publisher, page, saved = setup()
    opened(publisher, saved, req)
    page.checkpoint = saved.checkpoint

    outcome = await publisher.publish(req, CREDENTIALS, saved.checkpoint)

    assert isinstance(outcome, Published | Wait)
    assert not page.ops("recent_posts")
    assert not page.ops("recent_videos")
    assert FEED_CALL_STARTED not in saved.steps  # written with the entry
    assert page.calls[0][1] == FEED_CALL_STARTED  # and there before the visible call


async def test_the_opening_marks_what_a_flow_would_save_itself() -> None:
    publisher, page, saved = setup()
    req = request("Our menu", link="https://bakery.example/menu")
    await run(publisher, page, saved, req)
    opening = publisher.opening(req)
    assert opening is not None
    assert opening.step == FEED_CALL_STARTED
    assert opening.data["marker"] == saved.checkpoint.data["marker"]
    assert publisher.opening(request("Two", image(0), image(1))) is None  # uploads come first


async def test_a_later_handling_of_an_opened_entry_looks_for_the_post_first() -> None:
    """An entry that holds the opening but is not this handling's (a try that died after its
    entry was written, or a contender's insert) may have posted: the Page is read first."""
    publisher, page, saved = setup()
    req = request("Fresh rye today")
    opened(publisher, saved, req)
    page.checkpoint = saved.checkpoint
    await publisher.publish(req, CREDENTIALS, saved.checkpoint)  # posted, then "died"

    outcome = await run(publisher, page, saved, req)  # the redelivery: not first

    [post] = page.visible
    assert outcome == Published(post.id, post.permalink or f"https://www.facebook.com/{post.id}")
    assert page.ops("recent_posts") == [FEED_CALL_STARTED]
    assert len(page.ops("create_post")) == 1
