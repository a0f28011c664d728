"""Sending one batch's due recipients: paced, several at a time, progress written as it happens
(docs/adr/0007-whatsapp-batches-and-pace.md).

Each send takes a slot from the number's bucket, then runs with at most `max_in_flight` others,
and keeps its place among them until its accepted message is in the message log (group commit:
one write carries every message accepted while the previous write ran). A crash therefore
re-sends at most `max_in_flight` messages: those sent and not yet written; with one in flight,
at most one per crash. The checkpoint is written beside the log, never in its way: at most one
write at a time, at most every `CHECKPOINT_EVERY_S` (or four times as long as the last one took,
when the store is slow), only when the progress holds something the log does not (a failure, a
recipient waiting), none once every send is under way (the end is near, and the handler's end
must not wait for one), and when the handler ends without publishing. It only summarises: a
later handling completes it from the log, so what it lags behind is never sent twice.

What a failure means is `domain.verdict`: the recipient fails, waits (131056, transient), the
number slows down (130429, retried in up to `throttle_rounds` rounds), or the whole batch stops
(the error is about the message or the account).
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from herald.content import WhatsAppRecipient
from herald.durable import durably
from herald.errors import PlatformError
from herald.events import PostRequested
from herald.runtime.ports import Checkpoint
from publisher_whatsapp import domain
from publisher_whatsapp.bodies import message_body
from publisher_whatsapp.domain import FLAG_REASONS, SENDING, Failure, Pending, Progress, Verdict
from publisher_whatsapp.pace import Pacer
from publisher_whatsapp.ports import (
    CloudApi,
    ContactFlag,
    ContactFlags,
    MessageLog,
    SendObserver,
    SentMessage,
)
from publisher_whatsapp.settings import SendSettings

CHECKPOINT_EVERY_S = 0.5


@dataclass(frozen=True)
class Batch:
    request: PostRequested
    token: str
    phone_number_id: str
    uploaded: Mapping[str, str]


@dataclass
class BatchRun:
    api: CloudApi
    log: MessageLog
    flags: ContactFlags
    pacer: Pacer
    observer: SendObserver
    settings: SendSettings
    max_wait_s: float
    checkpoint: Checkpoint
    progress: Progress
    clock: Callable[[], float] = time.time
    stop: PlatformError | None = None
    _halted: bool = False
    _broken: Exception | None = None  # the message log or the checkpoint could not be written
    _unsaved: list[SentMessage] = field(default_factory=list)
    _unflagged: list[ContactFlag] = field(default_factory=list)
    _accepted_seq: int = 0
    _recorded_seq: int = 0
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _flushing: asyncio.Task[None] | None = None
    _saving: asyncio.Task[None] | None = None
    _saved_at: float = 0.0
    _save_cost_s: float = 0.0
    _all_started: bool = False  # every send of the round is under way: no periodic checkpoint
    _news: bool = False  # the progress holds what the log does not (failures, waits) unsaved

    async def run(self, batch: Batch, due: Sequence[WhatsAppRecipient]) -> PlatformError | None:
        """Send to `due`; returns the error that stopped the batch, if one did."""
        queue = list(due)
        for _ in range(self.settings.throttle_rounds):
            queue = await self._round(batch, queue)
            if not queue or self.stop is not None or self._halted:
                break
        later = self.clock() + self.settings.throttle_pause_s
        for recipient in queue:  # still throttled after every round: next handling
            self._wait(recipient.recipient_id, later)
        await self._flushed()
        if self._broken is not None:
            raise self._broken
        return self.stop

    async def save(self) -> None:
        """Checkpoint the progress now (the caller does, unless the batch is over)."""
        await self._saved()
        await self._save()

    async def _round(
        self, batch: Batch, queue: Sequence[WhatsAppRecipient]
    ) -> list[WhatsAppRecipient]:
        slowed: list[WhatsAppRecipient] = []
        room = asyncio.Semaphore(self.settings.max_in_flight)
        self._all_started = False
        async with asyncio.TaskGroup() as group:
            for index, recipient in enumerate(queue):
                await room.acquire()  # first a place, then a slot: the slot is used at once
                if self._stopping():
                    room.release()
                    break
                if not await self.pacer.acquire(batch.phone_number_id, self.max_wait_s):
                    room.release()
                    later = self.clock() + self.max_wait_s
                    for waiting in queue[index:]:  # the number is busy: the rest next time
                        self._wait(waiting.recipient_id, later)
                    break
                group.create_task(self._send(batch, recipient, room, slowed))
            self._all_started = True
        return slowed

    def _stopping(self) -> bool:
        return self.stop is not None or self._halted or self._broken is not None

    async def _send(
        self,
        batch: Batch,
        recipient: WhatsAppRecipient,
        room: asyncio.Semaphore,
        slowed: list[WhatsAppRecipient],
    ) -> None:
        try:
            body = message_body(batch.request, recipient, batch.uploaded)
            message_id = await self.api.send(batch.token, batch.phone_number_id, body)
        except PlatformError as error:
            self._failed(batch, recipient, error, slowed)
        else:
            await self._durable(self._accepted(batch, recipient, message_id))
        finally:
            room.release()

    def _accepted(self, batch: Batch, recipient: WhatsAppRecipient, message_id: str) -> int:
        """Queue the message for the log; its sequence number, to wait for its write."""
        self.progress.accept(recipient.recipient_id, message_id)
        request = batch.request
        self._unsaved.append(
            SentMessage(
                message_id=message_id,
                phone_number_id=batch.phone_number_id,
                post_id=request.post_id,
                target_id=request.target_id,
                business_id=request.business_id,
                integration_id=request.integration_id,
                recipient_id=recipient.recipient_id,
                to=recipient.to,
                sent_at=datetime.now(UTC),
            )
        )
        self.observer.message("accepted", None)
        self._accepted_seq += 1
        self._flush_soon()
        return self._accepted_seq

    async def _durable(self, seq: int) -> None:
        async with self._changed:
            await self._changed.wait_for(
                lambda: self._recorded_seq >= seq or self._broken is not None
            )

    def _failed(
        self,
        batch: Batch,
        recipient: WhatsAppRecipient,
        error: PlatformError,
        slowed: list[WhatsAppRecipient],
    ) -> None:
        rid, code, s = recipient.recipient_id, error.code, self.settings
        verdict = domain.verdict(error, own_parameters=recipient.components is not None)
        self._news = True  # whatever the answer means, the message log does not know it
        if verdict is Verdict.SLOW_DOWN:
            self.observer.throttled(code or "")
            self.pacer.pause(batch.phone_number_id, error.retry_after_s or s.throttle_pause_s)
            slowed.append(recipient)
        elif verdict is Verdict.PAIR:
            self.observer.throttled(code or "")
            waits = self.progress.pair_refused(
                rid, error, self.clock(), base_s=s.pair_backoff_s, max_tries=s.pair_max_tries
            )
            self.observer.message("deferred" if waits else "failed", code)
        elif verdict is Verdict.RETRY:
            waits = self.progress.transient(
                rid, error, self.clock(), backoff_s=s.retry_backoff_s, max_tries=s.max_tries
            )
            self.observer.message("retried" if waits else "failed", code)
            self._halted = True  # the platform is in trouble: no more sends this time
        elif verdict is Verdict.FAIL:
            self._fail(batch, recipient, error)
        elif self.stop is None:
            self.stop = error

    def _fail(self, batch: Batch, recipient: WhatsAppRecipient, error: PlatformError) -> None:
        self.progress.fail(recipient.recipient_id, Failure.of(error))
        self.observer.message("failed", error.code)
        reason = FLAG_REASONS.get(error.code or "")
        if reason is None:
            return
        request = batch.request
        self._unflagged.append(
            ContactFlag(
                business_id=request.business_id,
                integration_id=request.integration_id,
                to=recipient.to,
                reason=reason,
                code=error.code or "",
                message=error.message,
                post_id=request.post_id,
                target_id=request.target_id,
                recipient_id=recipient.recipient_id,
                message_id=None,
                source="send",
                observed_at=datetime.now(UTC),
                remediation=error.remediation,
            )
        )
        self._flush_soon()

    def _wait(self, rid: str, not_before: float) -> None:
        self._news = True
        before = self.progress.pending.get(rid, Pending(0.0))
        self.progress.pending[rid] = Pending(
            max(before.not_before, not_before), before.tries, before.pair_tries, before.code
        )

    def _flush_soon(self) -> None:
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while (self._unsaved or self._unflagged) and self._broken is None:
                messages, self._unsaved = self._unsaved, []
                flags, self._unflagged = self._unflagged, []
                upto = self._accepted_seq
                # What the log loses is sent again: a store away for seconds is waited for.
                writes: list[Callable[[], Awaitable[object]]] = []
                writes += [functools.partial(self.log.record, messages)] if messages else []
                writes += [functools.partial(self.flags.flag, flag) for flag in flags]
                for write in writes:
                    await durably(write, within_s=self.settings.log_retry_s, what="message log")
                await self._advance(upto)
                self._save_soon()
        except Exception as exc:  # noqa: BLE001 - kept for `run`, which raises it once sends stop
            self._broken = exc
            await self._advance(self._recorded_seq)

    def _save_soon(self) -> None:
        """Start a checkpoint write unless one is under way or the last was too recent: the
        log's writes (which free the places of sends) never wait for a checkpoint."""
        idle = self._saving is None or self._saving.done()
        spacing = max(CHECKPOINT_EVERY_S, 4 * self._save_cost_s)
        due = self._news and not self._all_started
        if idle and due and self.clock() - self._saved_at >= spacing:
            self._saving = asyncio.create_task(self._save_beside())

    async def _save_beside(self) -> None:
        try:
            await self._save()
        except Exception as exc:  # noqa: BLE001 - kept for `run`, which raises it once sends stop
            self._broken = exc
            await self._advance(self._recorded_seq)

    async def _saved(self) -> None:  # an older checkpoint must not land after a newer one
        task, self._saving = self._saving, None
        if task is not None:
            await task

    async def _advance(self, upto: int) -> None:
        async with self._changed:
            self._recorded_seq = upto
            self._changed.notify_all()

    async def _flushed(self) -> None:
        while self._flushing is not None:
            task, self._flushing = self._flushing, None
            await task
        if (self._unsaved or self._unflagged) and self._broken is None:
            await self._flush()
        await self._saved()

    async def _save(self) -> None:
        began = self._saved_at = self.clock()
        self._news = False
        await self.checkpoint.save(SENDING, **self.progress.to_data())
        self._save_cost_s = max(self.clock() - began, 0.0)
