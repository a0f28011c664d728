"""Publishing one target on a Facebook Page: the `Platform` the publisher runtime drives.

Flows (platform-apis.md §1.2), each resumable from its checkpoint:
- text or link: `FEED_CALL_STARTED` is saved, then `/feed`;
- one photo: `FEED_CALL_STARTED`, then `/photos` (published);
- several photos: each unpublished upload's id is saved (`PHOTOS_UPLOADING`), so a retry never
  uploads one twice; then `FEED_CALL_STARTED` and one `/feed` with `attached_media`;
- video: `FEED_CALL_STARTED`, `/videos` with `file_url`, then `VIDEO_PROCESSING` with the video
  id, followed through the delay tiers (`Wait`) until Graph says it is ready.

On a target's first handling `FEED_CALL_STARTED` is already in the ledger entry the runtime
created (`opening`), so the flow neither saves it nor looks for an earlier try; any later
handling that finds it reads the Page first, as below.

The visible call has no idempotency key. After an ambiguous answer, and on any delivery that
finds `FEED_CALL_STARTED` (a crash or a retry after the call), the Page's recent posts are read
first and a post carrying our marker is taken as published (`domain.find_ours`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from herald.content import MediaKind
from herald.errors import AmbiguousOutcome, Permanent, Unknown
from herald.events import PostRequested, Violation
from herald.ledger import Opening
from herald.rules import check_target
from herald.runtime.ports import Checkpoint, Credentials, Outcome, Published, Wait
from herald.topics import Platform
from publisher_facebook import domain
from publisher_facebook.domain import FEED_CALL_STARTED, PHOTOS_UPLOADING, VIDEO_PROCESSING, Shape
from publisher_facebook.ports import PagePost, PagesApi


@dataclass(frozen=True)
class FlowSettings:
    video_poll_s: float = 10.0
    reconcile_skew_s: float = 120.0
    reconcile_posts: int = 25


@dataclass(frozen=True)
class Target:
    """One post on one Page, as the flow's steps need it."""

    token: str
    page_id: str
    request: PostRequested
    shape: Shape

    @property
    def message(self) -> str | None:
        return self.request.content.text

    @property
    def link(self) -> str | None:
        link = self.request.content.link
        return None if link is None else str(link)

    @property
    def marker(self) -> str:
        return _marker(self.request, self.shape)


def _marker(request: PostRequested, shape: Shape) -> str:
    """What tells our post among the Page's: its text, and its link for a text post."""
    link = request.content.link
    return domain.fingerprint(
        request.content.text, str(link) if link is not None and shape is Shape.TEXT else None
    )


@dataclass
class FacebookPublisher:
    pages: PagesApi
    settings: FlowSettings = field(default_factory=FlowSettings)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    name: Platform = Platform.FACEBOOK

    def validate(self, request: PostRequested) -> list[Violation]:
        return check_target(request.content, Platform.FACEBOOK, request.options)

    def opening(self, request: PostRequested) -> Opening | None:
        """`FEED_CALL_STARTED`, for every shape whose first platform call is the visible one
        (all but several photos, uploaded first): written with a new ledger entry."""
        shape = domain.shape_of(request.content)
        if shape is Shape.PHOTOS:
            return None
        started = self.clock().timestamp()
        return Opening(
            FEED_CALL_STARTED, {"started_at": started, "marker": _marker(request, shape)}
        )

    async def publish(
        self, request: PostRequested, credentials: Credentials, checkpoint: Checkpoint
    ) -> Outcome:
        page_id = credentials.account.get("page_id") or credentials.account_id
        target = Target(
            credentials.access_token, page_id, request, domain.shape_of(request.content)
        )
        if checkpoint.step == VIDEO_PROCESSING:
            return await self._follow_video(target, str(checkpoint.data["video_id"]))
        if checkpoint.step == FEED_CALL_STARTED and not checkpoint.first:  # an earlier try's
            found = await self._reconcile(target, checkpoint)
            if found is not None:
                return found
        if target.shape is Shape.VIDEO:
            return await self._video(target, checkpoint)
        attached = await self._upload_photos(target, checkpoint)
        return await self._visible(target, checkpoint, attached)

    async def _upload_photos(self, target: Target, checkpoint: Checkpoint) -> list[str]:
        if target.shape is not Shape.PHOTOS:
            return []
        uploaded: list[str] = list(checkpoint.data.get("photo_ids", []))
        photos = [m for m in target.request.content.media if m.kind is MediaKind.IMAGE]
        for media in photos[len(uploaded) :]:
            photo_id = await self.pages.upload_photo(
                target.token, target.page_id, url=str(media.url), alt_text=media.alt_text
            )
            uploaded.append(photo_id)
            await checkpoint.save(PHOTOS_UPLOADING, photo_ids=uploaded)
        return uploaded

    async def _visible(
        self, target: Target, checkpoint: Checkpoint, attached: list[str]
    ) -> Outcome:
        await self._mark_started(target, checkpoint)
        try:
            post_id = await self._create(target, attached)
        except AmbiguousOutcome:
            found = await self._reconcile(target, checkpoint)
            if found is not None:
                return found
            raise
        return Published(post_id, domain.permalink(post_id))

    async def _create(self, target: Target, attached: list[str]) -> str:
        if target.shape is Shape.PHOTO:
            [media] = target.request.content.media
            return await self.pages.publish_photo(
                target.token,
                target.page_id,
                url=str(media.url),
                caption=target.message,
                alt_text=media.alt_text,
            )
        return await self.pages.create_post(
            target.token,
            target.page_id,
            message=target.message,
            link=target.link,
            attached=attached,
        )

    async def _video(self, target: Target, checkpoint: Checkpoint) -> Outcome:
        [media] = target.request.content.media
        await self._mark_started(target, checkpoint)
        options = target.request.options
        title = getattr(options, "video_title", None)
        try:
            video_id = await self.pages.create_video(
                target.token,
                target.page_id,
                file_url=str(media.url),
                description=target.message,
                title=title,
            )
        except AmbiguousOutcome:
            found = await self._reconcile(target, checkpoint)
            if found is not None:
                return found
            raise
        await checkpoint.save(VIDEO_PROCESSING, video_id=video_id)
        return await self._follow_video(target, video_id)

    async def _follow_video(self, target: Target, video_id: str) -> Outcome:
        state = await self.pages.video(target.token, video_id)
        if state.status == "ready":
            return Published(state.post_id or video_id, domain.absolute(state.permalink))
        if state.status == "error":
            raise Permanent(
                "Facebook could not process the video",
                code="video_status_error",
                remediation="Upload the video as MP4 or MOV within Facebook's limits, then retry.",
                evidence={"video_id": video_id},
            )
        detail = f"video {video_id} processing ({state.progress}%)"
        return Wait(self.settings.video_poll_s, VIDEO_PROCESSING, detail)

    async def _mark_started(self, target: Target, checkpoint: Checkpoint) -> None:
        if checkpoint.first and checkpoint.step == FEED_CALL_STARTED:
            return  # written with the ledger entry (`opening`)
        started = self.clock().timestamp()
        await checkpoint.save(FEED_CALL_STARTED, started_at=started, marker=target.marker)

    async def _reconcile(self, target: Target, checkpoint: Checkpoint) -> Outcome | None:
        """Whether the visible call of an earlier try went out: our post on the Page, or None."""
        started = datetime.fromtimestamp(float(checkpoint.data["started_at"]), UTC)
        marker = str(checkpoint.data.get("marker") or target.marker)
        if target.shape is Shape.VIDEO:
            return await self._reconcile_video(target, checkpoint, marker, started)
        posts = await self.pages.recent_posts(
            target.token, target.page_id, limit=self.settings.reconcile_posts
        )
        ours = self._ours(posts, marker, started, with_link=target.shape is Shape.TEXT)
        if ours is None:
            return None
        return Published(ours.id, ours.permalink or domain.permalink(ours.id))

    async def _reconcile_video(
        self, target: Target, checkpoint: Checkpoint, marker: str, started: datetime
    ) -> Outcome | None:
        try:
            videos = await self.pages.recent_videos(
                target.token, target.page_id, limit=self.settings.reconcile_posts
            )
        except Permanent as error:
            raise Unknown(
                "the video upload may have gone out and the Page's videos cannot be read to check",
                code="unverifiable_video",
                remediation="Check the Page's videos; publish the post again if it is not there.",
                evidence={"page_id": target.page_id, "read_error": error.message},
            ) from error
        ours = self._ours(videos, marker, started, with_link=False)
        if ours is None:
            return None
        await checkpoint.save(VIDEO_PROCESSING, video_id=ours.id)
        return await self._follow_video(target, ours.id)

    def _ours(
        self, posts: list[PagePost], marker: str, started: datetime, *, with_link: bool
    ) -> PagePost | None:
        skew = timedelta(seconds=self.settings.reconcile_skew_s)
        return domain.find_ours(
            posts, marker=marker, started_at=started, skew=skew, with_link=with_link
        )
