"""The two resumable halves of the flow: FILE_UPLOAD (`FileUploads`) and following a publish
id to its end (`Follower`). See handlers.py for the whole flow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from herald.content import MediaKind
from herald.errors import Permanent, Transient
from herald.events import ProcessingStage
from herald.runtime.ports import Outcome, Published
from publisher_tiktok.domain import ChunkPlan, failed_publish, permalink
from publisher_tiktok.ports import PublishStatus, RangeRejected, UploadGone
from publisher_tiktok.upload import Upload, Uploader, boundary, content_type

if TYPE_CHECKING:
    from publisher_tiktok.handlers import Flow

PROCESSING, UPLOADING, START = "processing", "uploading", "start"
_TRANSFERRING = frozenset({"PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD"})
MAX_REINITS = 2


class FileUploads:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.platform = flow.platform
        self.reinits = 0

    @property
    def data(self) -> dict[str, Any]:
        return self.flow.checkpoint.data

    async def begin(self) -> Outcome:
        video = next(m for m in self.flow.request.content.media if m.kind is MediaKind.VIDEO)
        url = str(video.url)
        limit = self.platform.settings.chunks.video_max_bytes
        async with self.platform.media.open(url, max_bytes=limit) as media:
            size = media.size or video.size_bytes
            kind = content_type(media.content_type, video.mime_type)
        if not size:
            raise Permanent(
                "the media server does not say how large the video is, and TikTok needs to know",
                code="video_size_unknown",
                remediation="Serve the video with a Content-Length, or give size_bytes.",
            )
        return await self._init(url, size, kind)

    async def resume(self) -> Outcome:
        if self.platform.clock() >= float(self.data["upload_expires_at"]):
            return await self._reinit()
        held = await self._held()
        await self.flow.checkpoint.save(UPLOADING, acked=boundary(self._plan(), held))
        return await self._send()

    async def _init(self, url: str, size: int, kind: str) -> Outcome:
        creator = await self.flow.creator(self.flow.duration())
        plan = self.flow.plan(size)
        self.platform.limiter.take(self.flow.key, "init")
        init = await self.platform.api.init_video(
            self.flow.token,
            inbox=self.flow.inbox,
            post_info=self.flow.video_info(creator),
            source_info=plan.source_info(),
        )
        if not init.upload_url:
            raise Transient("TikTok gave no upload URL for a FILE_UPLOAD", code="no_upload_url")
        await self.flow.checkpoint.save(
            UPLOADING,
            publish_id=init.publish_id,
            upload_url=init.upload_url,
            upload_expires_at=self.platform.clock() + self.platform.settings.upload_url_ttl_s,
            video_url=url,
            video_size=plan.video_size,
            chunk_size=plan.chunk_size,
            total_chunks=plan.total,
            content_type=kind,
            acked=0,
            username=creator.username if creator else "",
            photo=False,
            public=self.flow.public,
        )
        return await self._send()

    async def _reinit(self) -> Outcome:
        self.reinits += 1
        if self.reinits > MAX_REINITS:
            raise Transient("TikTok's upload URLs kept expiring", code="upload_url_expired")
        abandoned = [*self.data.get("abandoned", []), self.data["publish_id"]]
        await self.flow.checkpoint.save(UPLOADING, abandoned=abandoned)
        data = self.data
        return await self._init(data["video_url"], int(data["video_size"]), data["content_type"])

    def _plan(self) -> ChunkPlan:
        data = self.data
        return ChunkPlan(
            int(data["video_size"]), int(data["chunk_size"]), int(data["total_chunks"])
        )

    async def _send(self) -> Outcome:
        plan = self._plan()
        job = Upload(
            self.data["video_url"], self.data["upload_url"], plan, self.data["content_type"]
        )
        uploader = Uploader(
            self.platform.api, self.platform.media, self.platform.settings.chunk_attempts
        )

        async def acked(count: int) -> None:
            await self.flow.checkpoint.save(UPLOADING, acked=count)
            # What the target reads meanwhile (ADR 0018): the bytes TikTok holds so far.
            chunks = plan.total if count >= plan.video_size else plan.index_at(count)
            detail = f"{chunks} of {plan.total} chunks sent"
            await self.flow.checkpoint.report(
                ProcessingStage.UPLOADING,
                detail=detail,
                bytes_sent=count,
                bytes_total=plan.video_size,
            )

        try:
            await uploader.run(job, int(self.data["acked"]), acked)
        except UploadGone:
            return await self._reinit()
        except RangeRejected:
            held = await self._held()
            if held < plan.video_size and boundary(plan, held) <= int(self.data["acked"]):
                raise Transient("TikTok refused the next chunk's range", code="upload") from None
            await acked(boundary(plan, held))
            return await self._send()
        await self.flow.checkpoint.save(PROCESSING, acked=plan.video_size, checks=0)
        return self.flow.wait("TikTok is processing the upload")

    async def _held(self) -> int:
        """How many bytes TikTok holds for the current publish id (from its status)."""
        status = await Follower(self.flow).fetch()
        if status.status == "FAILED":
            await Follower(self.flow).fail(status.fail_reason or "internal")
        if status.status not in _TRANSFERRING:
            return int(self.data["video_size"])
        held = status.uploaded_bytes
        return int(self.data.get("acked", 0)) if held is None else held


class Follower:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self.platform = flow.platform

    @property
    def data(self) -> dict[str, Any]:
        return self.flow.checkpoint.data

    async def fetch(self) -> PublishStatus:
        publish_id = str(self.data["publish_id"])
        learned = await self.platform.outcomes.learned(publish_id)
        if learned is not None:
            return learned
        self.platform.limiter.take(self.flow.key, "status")
        return await self.platform.api.status(self.flow.token, publish_id)

    async def check(self) -> Outcome:
        status = await self.fetch()
        if status.status == "SEND_TO_USER_INBOX":
            return Published(None)
        if status.status == "PUBLISH_COMPLETE":
            return await self._complete(status)
        if status.status == "FAILED":
            await self.fail(status.fail_reason or "internal")
        checks = int(self.data.get("checks", 0)) + 1
        await self.flow.checkpoint.save(PROCESSING, checks=checks)
        return self.flow.wait(f"TikTok status {status.status} (check {checks})")

    async def _complete(self, status: PublishStatus) -> Outcome:
        post_id = status.post_ids[0] if status.post_ids else None
        username = str(self.data.get("username") or "")
        photo = bool(self.data.get("photo"))
        link = permalink(username, post_id, photo=photo) if post_id else None
        return Published(post_id, link)

    async def fail(self, reason: str) -> None:
        """Raise what `reason` means; a publish worth trying again starts over next time."""
        error = failed_publish(reason, daily_cap_s=self.platform.settings.daily_cap_retry_s)
        if not isinstance(error, Permanent):
            failed = [*self.data.get("failed", []), self.data.get("publish_id")]
            await self.flow.checkpoint.save(
                START, publish_id=None, upload_url=None, acked=0, failed=failed
            )
        raise error
