"""Sending one `post.requested.whatsapp` (a batch of recipients): the `Platform` the publisher
runtime drives (docs/adr/0007-whatsapp-batches-and-pace.md).

1. Progress comes from the checkpoint, completed by the message log (a message accepted just
   before a crash is in the log before it is in the checkpoint), so a redelivery never sends
   again to a recipient who already has a message. Only the first handling of a batch (the
   runtime says so: `Checkpoint.first`) skips the log, which cannot hold anything of it yet.
2. Files WhatsApp cannot fetch (`media.upload`) are uploaded once per batch; their media ids are
   checkpointed before any message uses them.
3. The recipients due now are sent (`sending.BatchRun`).
4. The result: the error that stopped the batch when it is about the account or the platform
   (re-auth, throttling, outage: the runtime retries, progress kept); `Wait` while recipients
   wait (131056, 130429, transient failures); `Published` with every recipient's outcome once
   all are settled and at least one message was accepted; otherwise `Permanent` with the
   outcomes as evidence. A permanent stop after some messages went out fails the rest and
   still publishes, so the accepted messages are reported.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from herald.errors import NeedsReauth, Permanent, PlatformError, Throttled, Transient
from herald.events import PostRequested, ProcessingStage, Violation
from herald.rules import check_target
from herald.rules.limits import WHATSAPP
from herald.runtime.ports import Checkpoint, Credentials, Outcome, Published, Wait
from herald.topics import Platform
from publisher_whatsapp.bodies import Upload, extra_violations, options_of, uploads
from publisher_whatsapp.domain import SENDING, Failure, Progress
from publisher_whatsapp.pace import Pacer
from publisher_whatsapp.ports import CloudApi, ContactFlags, MediaSource, MessageLog, SendObserver
from publisher_whatsapp.sending import Batch, BatchRun
from publisher_whatsapp.settings import MediaSettings, SendSettings, Settings

E = TypeVar("E", bound=PlatformError)

_MAX_BYTES = {
    "image": WHATSAPP.image.max_bytes,
    "video": WHATSAPP.video.max_bytes,
    "document": WHATSAPP.document.max_bytes,
}


@dataclass(frozen=True)
class FlowSettings:
    send: SendSettings = field(default_factory=SendSettings)
    media: MediaSettings = field(default_factory=MediaSettings)
    max_wait_s: float = 2.0


@dataclass
class WhatsAppPublisher:
    api: CloudApi
    log: MessageLog
    flags: ContactFlags
    media: MediaSource
    pacer: Pacer
    observer: SendObserver
    settings: FlowSettings = field(default_factory=FlowSettings)
    clock: Callable[[], float] = time.time
    name: Platform = Platform.WHATSAPP
    _numbers: set[str] = field(default_factory=set)

    @classmethod
    def from_settings(
        cls,
        api: CloudApi,
        *,
        log: MessageLog,
        flags: ContactFlags,
        media: MediaSource,
        observer: SendObserver,
        settings: Settings,
    ) -> WhatsAppPublisher:
        """The publisher with the pace (per number) and the batch rules of `settings`."""
        pace = settings.pace
        pacer = Pacer(pace.limit, pace.target_ratio, pace.burst_ratio, observer)
        flow = FlowSettings(send=settings.send, media=settings.media, max_wait_s=pace.max_wait_s)
        return cls(api, log, flags, media, pacer, observer, flow)

    def validate(self, request: PostRequested) -> list[Violation]:
        found = check_target(request.content, Platform.WHATSAPP, request.options)
        return found + extra_violations(request, max_recipients=self.settings.send.max_recipients)

    async def publish(
        self, request: PostRequested, credentials: Credentials, checkpoint: Checkpoint
    ) -> Outcome:
        phone = credentials.account.get("phone_number_id") or credentials.account_id
        await self._remember(phone, request)
        progress = await self._resume(request, checkpoint)
        token = credentials.access_token
        media = self.settings.media
        needed = uploads(request, mode=media.upload, private_origins=media.private_origins)
        await self._upload_media(needed, token, phone, progress, checkpoint)
        recipients = options_of(request).recipients
        run = BatchRun(
            api=self.api,
            log=self.log,
            flags=self.flags,
            pacer=self.pacer,
            observer=self.observer,
            settings=self.settings.send,
            max_wait_s=self.settings.max_wait_s,
            checkpoint=checkpoint,
            progress=progress,
            clock=self.clock,
        )
        batch = Batch(request, token, phone, dict(progress.media))
        stop = await run.run(batch, progress.due(recipients, self.clock()))
        outcome = await self._conclude(request, progress, stop, run)
        if not isinstance(outcome, Published):
            await run.save()
        return outcome

    async def _resume(self, request: PostRequested, checkpoint: Checkpoint) -> Progress:
        """The batch's progress: the checkpoint's, completed from the message log unless this
        is the batch's first handling (then nothing of it can be in the log)."""
        progress = Progress.from_data(checkpoint.data)
        if checkpoint.first:
            return progress
        for rid, message_id in (await self.log.sent_for(request.target_id)).items():
            if not progress.settled(rid):
                progress.accept(rid, message_id)
        return progress

    async def _remember(self, phone: str, request: PostRequested) -> None:
        if phone not in self._numbers:
            await self.log.remember_number(phone, request.integration_id, request.business_id)
            self._numbers.add(phone)

    async def _upload_media(
        self,
        needed: list[Upload],
        token: str,
        phone: str,
        progress: Progress,
        checkpoint: Checkpoint,
    ) -> None:
        for upload in needed:
            if upload.url in progress.media:
                continue
            progress.media[upload.url] = await self._upload(upload, token, phone)
            await checkpoint.save(SENDING, **progress.to_data())

    async def _upload(self, upload: Upload, token: str, phone: str) -> str:
        fetched = await self.media.read(upload.url, max_bytes=_MAX_BYTES[upload.kind] or 0)
        mime = upload.mime_type or fetched.mime_type
        if not mime:
            raise Permanent(
                f"the type of {upload.url} is unknown, so it cannot be uploaded to WhatsApp",
                code="media_type_unknown",
                remediation="Give the media item its mime_type, or serve it with a Content-Type.",
            )
        return await self.api.upload(
            token, phone, data=fetched.data, mime_type=mime, filename=upload.filename
        )

    async def _conclude(
        self,
        request: PostRequested,
        progress: Progress,
        stop: PlatformError | None,
        run: BatchRun,
    ) -> Outcome:
        recipients = options_of(request).recipients
        if isinstance(stop, NeedsReauth | Throttled | Transient):
            await run.save()
            raise stop  # about the account or the platform: the runtime retries, progress kept
        if stop is not None:
            if not progress.sent:
                raise _with_outcomes(stop, progress, request)
            for recipient in progress.open(recipients):
                progress.fail(recipient.recipient_id, Failure.of(stop))
        waiting = progress.open(recipients)
        if waiting:
            now = self.clock()
            due = progress.next_due() or now
            detail = f"{len(waiting)} of {len(recipients)} recipients wait"
            # Some messages are out, the rest wait for their pace: the target is publishing.
            return Wait(max(due - now, 0.0), SENDING, detail, stage=ProcessingStage.PUBLISHING)
        if progress.sent:
            return Published(None, None, progress.outcomes(recipients))
        raise _nothing_sent(progress, request)


def _with_outcomes(error: E, progress: Progress, request: PostRequested) -> E:
    outcomes = progress.outcomes(options_of(request).recipients)
    error.evidence = {**error.evidence, "recipients": [o.model_dump() for o in outcomes]}
    return error


def _nothing_sent(progress: Progress, request: PostRequested) -> Permanent:
    """Every recipient failed: the most common failure, with every outcome as evidence."""
    counts = Counter(f.code for f in progress.failed.values())
    code = counts.most_common(1)[0][0]
    first = next(f for f in progress.failed.values() if f.code == code)
    total = len(progress.failed)
    error = Permanent(
        f"no recipient could be sent the message ({counts[code]} of {total}: {first.message})",
        code=code,
        remediation=first.remediation,
    )
    return _with_outcomes(error, progress, request)
