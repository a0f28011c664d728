"""The TikTok flow (the `Platform` the publisher runtime drives), resumable at every step.

    start ─► creator_info (direct posts) ─► init ─┬─► PULL_FROM_URL, photos ───────► processing
                                                  └─► FILE_UPLOAD: "uploading" ──► processing
    processing ─► status/fetch, Wait between ─► PUBLISH_COMPLETE | SEND_TO_USER_INBOX | FAILED

Checkpoints: after init (`publish_id`, `upload_url`, the chunk plan), after each acknowledged
chunk (`acked`), and when the upload is complete. A redelivery resumes from them: it never
posts again once TikTok holds a publish id, it asks TikTok what became of it. A failed publish
whose reason is worth retrying goes back to `start` (a new publish id).

A pull (PULL_FROM_URL video, photos) starts publishing as soon as TikTok accepts the init, so
`pull_sent` is saved before that call: a process that dies between TikTok's answer and the
`processing` checkpoint leaves `pull_sent` behind, and the redelivery ends `Unknown` (the post
may be live; there is nothing to ask without its publish id) instead of pulling a second time.
An init that TikTok refused, or that never left, goes back to `start`.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from herald.content import MediaKind, TikTokOptions
from herald.errors import Permanent, PlatformError, Unknown
from herald.events import PostRequested, Violation
from herald.rules import DEFAULT_LIMITS, Limits, check_target
from herald.runtime.ports import Checkpoint, Credentials, Outcome, Wait
from herald.topics import Platform
from publisher_tiktok.domain import (
    CreatorInfo,
    check_creator,
    photo_post_info,
    plan_chunks,
    under_prefix,
    video_post_info,
)
from publisher_tiktok.ports import Limiter, MediaSource, Outcomes, TikTokApi
from publisher_tiktok.progress import FileUploads, Follower
from publisher_tiktok.recovery import find_pulled
from publisher_tiktok.settings import TikTokSettings

PROCESSING, UPLOADING, START, PULL_SENT = "processing", "uploading", "start", "pull_sent"


@dataclass
class TikTokPublisher:
    api: TikTokApi
    media: MediaSource
    limiter: Limiter
    outcomes: Outcomes
    settings: TikTokSettings
    clock: Callable[[], float] = time.time
    name: Platform = field(default=Platform.TIKTOK, init=False)

    def validate(self, request: PostRequested) -> list[Violation]:
        schemes = tuple(self.settings.photo_url_schemes)
        limits = Limits(tiktok=replace(DEFAULT_LIMITS.tiktok, photo_url_schemes=schemes))
        return check_target(request.content, request.platform, request.options, limits=limits)

    async def publish(
        self, request: PostRequested, credentials: Credentials, checkpoint: Checkpoint
    ) -> Outcome:
        flow = Flow(self, request, credentials, checkpoint)
        if checkpoint.step == PROCESSING:
            return await flow.follower().check()
        if checkpoint.step == UPLOADING:
            return await flow.uploads().resume()
        if checkpoint.step == PULL_SENT:  # the init's answer was lost: look on the account
            return await find_pulled(flow)
        return await flow.start()


@dataclass
class Flow:
    """One run of the flow for one request."""

    platform: TikTokPublisher
    request: PostRequested
    credentials: Credentials
    checkpoint: Checkpoint

    @property
    def options(self) -> TikTokOptions:
        options = self.request.options
        if not isinstance(options, TikTokOptions):
            raise Permanent("a TikTok target needs TikTok options", code="invalid_options")
        return options

    @property
    def inbox(self) -> bool:
        return self.options.mode == "inbox"

    @property
    def public(self) -> bool:
        """Whether TikTok will give the post a public id (public direct posts only)."""
        return not self.inbox and self.options.privacy_level.value == "PUBLIC_TO_EVERYONE"

    @property
    def key(self) -> str:
        return self.request.integration_id

    @property
    def token(self) -> str:
        return self.credentials.access_token

    def follower(self) -> Follower:
        return Follower(self)

    def uploads(self) -> FileUploads:
        return FileUploads(self)

    def wait(self, detail: str) -> Wait:
        return Wait(self.platform.settings.status_poll_s, PROCESSING, detail)

    async def start(self) -> Outcome:
        media = self.request.content.media
        photos = [m for m in media if m.kind is MediaKind.IMAGE]
        if photos:
            return await self._photos([str(p.url) for p in photos])
        video = next(m for m in media if m.kind is MediaKind.VIDEO)
        if under_prefix(str(video.url), self.prefixes()):
            return await self._pull(str(video.url))
        return await self.uploads().begin()

    async def creator(self, duration_s: float | None) -> CreatorInfo | None:
        """creator_info before every direct post; its options decide what the post may ask."""
        if self.inbox:
            return None
        self.platform.limiter.take(self.key, "creator_info")
        info = CreatorInfo.from_data(await self.platform.api.creator_info(self.token))
        check_creator(self.options, info, duration_s)
        return info

    def video_info(self, creator: CreatorInfo | None) -> dict[str, Any]:
        if creator is None:
            return {}
        return video_post_info(self.options, self.request.content.text, creator)

    def duration(self) -> float | None:
        video = next((m for m in self.request.content.media if m.kind is MediaKind.VIDEO), None)
        return None if video is None else video.duration_s

    def prefixes(self) -> list[str]:
        own = re.split(r"[\s,]+", self.credentials.account.get("verified_url_prefixes", ""))
        return [*self.platform.settings.verified_url_prefixes, *(p for p in own if p)]

    async def _pull(self, url: str) -> Outcome:
        creator = await self.creator(self.duration())
        self.platform.limiter.take(self.key, "init")
        async with self.pull_sent("video"):
            init = await self.platform.api.init_video(
                self.token,
                inbox=self.inbox,
                post_info=self.video_info(creator),
                source_info={"source": "PULL_FROM_URL", "video_url": url},
            )
        await self.processing(init.publish_id, creator, photo=False)
        return self.wait("TikTok is pulling the video")

    async def _photos(self, urls: list[str]) -> Outcome:
        prefixes = self.prefixes()
        outside = [u for u in urls if not under_prefix(u, prefixes)]
        if outside:
            raise Permanent(
                f"TikTok pulls photos only from URL prefixes verified for the app; "
                f"{len(outside)} of {len(urls)} photos are elsewhere",
                code="url_ownership_unverified",
                remediation="Host the photos under a verified prefix: " + ", ".join(prefixes),
                evidence={"first_unverified": outside[0].split("?", 1)[0]},
            )
        creator = await self.creator(None)
        source = {
            "source": "PULL_FROM_URL",
            "photo_cover_index": self.options.photo_cover_index,
            "photo_images": urls,
        }
        info = photo_post_info(self.options, self.request.content.text, creator)
        self.platform.limiter.take(self.key, "init")
        async with self.pull_sent("photo"):
            init = await self.platform.api.init_photo(
                self.token, inbox=self.inbox, post_info=info, source_info=source
            )
        await self.processing(init.publish_id, creator, photo=True)
        return self.wait("TikTok is pulling the photos")

    @asynccontextmanager
    async def pull_sent(self, kind: str) -> AsyncIterator[None]:
        """`pull_sent` saved before a pull init; back to `start` when TikTok's answer shows
        nothing started (a refusal, or a call that never left). `Unknown` keeps `pull_sent`."""
        await self.checkpoint.save(PULL_SENT, pull=kind, sent_at=self.platform.clock())
        try:
            yield
        except Unknown:
            raise
        except PlatformError:
            await self.checkpoint.save(START)
            raise

    async def processing(
        self, publish_id: str, creator: CreatorInfo | None, *, photo: bool
    ) -> None:
        await self.checkpoint.save(
            PROCESSING,
            publish_id=publish_id,
            username=creator.username if creator else "",
            photo=photo,
            public=self.public,
            checks=0,
        )

    def plan(self, size: int) -> Any:
        return plan_chunks(size, self.platform.settings.chunks)
