"""The transport: FastStream subscribers for the request topic and its delay tiers.

Offsets are committed explicitly, per record, and only after the message was published (its
results emitted) or durably handed to a delay tier or the dead-letter topic. A message that
cannot be decoded goes to the dead-letter topic with the reason, and so does one whose handling
raises an error of `herald.consuming.POISON` (a value that cannot be converted, computed or
stored: it would fail the same way each time), or the same error no dependency explains three
times in a row (`herald.consuming.Strikes`: a bug the input found), its target failed. A
dependency away (MongoDB, Kafka, auth-service) never drops the message: its partition is rewound
to it and paused briefly, and it runs again, for as long as it takes. Delay tiers pause a
partition whose head is not yet due and resume it when it is (pause, seek, resume on the
underlying consumer); a handler never sleeps.

With `overlap` (the default), a request's second half (ledger writes, lease release, results,
commit: `PublishHandler.start` returns it) runs behind the next request of the same partition,
so the platform's work, not the bookkeeping, keeps the partition busy. At most one request per
partition settles behind; it must succeed before the next one settles its results and commits,
so offsets are still committed in order. If it fails, its partition is rewound to it (as for
any unexpected error) and the request started meanwhile is recorded in the ledger but neither
reported nor committed: it runs again after the one before it, and finds its outcome there.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from aiokafka.errors import IllegalStateError, KafkaError
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from herald.cloudevents import decode
from herald.consuming import INVALID_HEADERS, POISON, Pauser, Strikes, commit, tolerant_parser
from herald.delivery import Delivery
from herald.emitter import EventEmitter
from herald.errors import ErrorCategory, InvalidEvent
from herald.events import (
    FailureDetail,
    PostFailed,
    PostProgressed,
    PostPublished,
    PostRequested,
    PostRetryScheduled,
    RetryReason,
)
from herald.inputs import printable
from herald.policy import tier_for
from herald.runtime.handler import (
    Disposition,
    PublishHandler,
    Settle,
    ToDeadLetter,
    ToTier,
)
from herald.runtime.holding import Hold, Reroute, hold_decision
from herald.runtime.metrics import PublisherMetrics
from herald.runtime.routing import KafkaRouter
from herald.topics import Platform, TopicNames
from herald.tracing import consuming

log = structlog.get_logger(__name__)

RETRY_AFTER_ERROR_S = 2.0


class PublisherConsumer:
    def __init__(
        self,
        *,
        platform: Platform,
        handler: PublishHandler,
        router: KafkaRouter,
        emitter: EventEmitter,
        metrics: PublisherMetrics,
        names: TopicNames,
        overlap: bool = True,
    ) -> None:
        self._platform = platform
        self._handler = handler
        self._router = router
        self._emitter = emitter
        self._metrics = metrics
        metrics.start_at_zero(platform.value)
        self._names = names
        self._tiers = dict(names.tiers)
        self._pauser = Pauser()
        self._strikes = Strikes()
        self._overlap = overlap
        self._behind: dict[tuple[str, int], _Behind] = {}

    def register(self, broker: KafkaBroker, *, group: str, concurrency: int) -> None:
        """Subscribe the request topic (`concurrency` consumers) and one consumer per tier."""
        common: dict[str, Any] = {
            "ack_policy": AckPolicy.MANUAL,
            "auto_offset_reset": "earliest",
            "parser": tolerant_parser,
        }
        main = broker.subscriber(
            self._names.requested(self._platform),
            group_id=group,
            max_workers=concurrency if concurrency > 1 else None,
            title=f"on_post_requested:{self._platform.value}",
            description="Publish one target on this platform; results go to post.results.",
            **common,
        )

        async def on_post_requested(msg: KafkaMessage) -> None:
            await self.process(msg, tier=None)

        main(on_post_requested)
        for tier in self._tiers:
            sub = broker.subscriber(
                self._names.delay(self._platform, tier),
                group_id=f"{group}.delay.{tier}",
                title=f"on_post_delayed:{self._platform.value}:{tier}",
                description=f"Resume deferred requests once due (tier {tier}).",
                # A resumed partition is fetched on the next fetch round, so the broker's wait
                # bounds how late a deferred request resumes: 250 ms, against a 10 s shortest
                # tier. Shorter costs every idle tier consumer (four per publisher) as many
                # fetch requests a second, on the broker and in the service (100 ms: 10/s).
                fetch_max_wait_ms=250,
                **common,
            )
            sub(self._tier_handler(tier))

    def _tier_handler(self, tier: str) -> Callable[[KafkaMessage], Awaitable[None]]:
        async def on_post_delayed(msg: KafkaMessage) -> None:
            await self.process(msg, tier=tier)

        return on_post_delayed

    def close(self) -> None:
        """Cancel pending resumes (after `drain`)."""
        self._pauser.close()

    async def drain(self) -> None:
        """Stop overlapping (requests still being handled settle in line) and wait until every
        request settling behind has committed or been put back."""
        self._overlap = False
        while self._behind:
            pending = [behind.task for behind in self._behind.values()]
            self._behind.clear()
            await asyncio.wait(pending)

    async def process(self, msg: KafkaMessage, *, tier: str | None) -> None:
        record: Any = msg.raw_message  # one ConsumerRecord: these subscribers are not batched
        headers = dict(msg.headers)
        structlog.contextvars.bind_contextvars(
            platform=self._platform.value,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        )
        # One span per request handled, a child of the context the request carries (the
        # scheduler's dispatch): platform calls and the results emitted are its children.
        span = consuming(
            f"consume post.requested.{self._platform.value}",
            headers,
            **{"messaging.destination.name": record.topic, "herald.tier": tier or ""},
        )
        with span:
            try:
                await self._process(msg, record, headers, tier)
            except Exception:  # nothing may be lost: rewind to the message and retry it
                stage = "tier" if tier else "main"
                log.exception("message.put_back", stage=stage, retry_in_s=RETRY_AFTER_ERROR_S)
                self._metrics.redeliveries.labels(stage).inc()
                retry_at = datetime.now(UTC) + timedelta(seconds=RETRY_AFTER_ERROR_S)
                self._pauser.hold(msg.consumer, record, retry_at)
            finally:
                structlog.contextvars.unbind_contextvars(
                    "platform", "topic", "partition", "offset", "post_id", "target_id", "attempt"
                )

    async def _process(
        self, msg: KafkaMessage, record: Any, headers: dict[str, str], tier: str | None
    ) -> None:
        if tier is not None and not await self._due(msg, record, headers, tier):
            return
        # Tiers settle in line: what they carry waits anyway, and `_due` commits on its own.
        behind = self._behind.pop(_partition(record), None) if tier is None else None
        if behind is not None and behind.offset >= record.offset:
            # The partition was rewound to this request (or before): what settled behind is
            # not a request before this one. Taking its failure for one would record this
            # request only, and the commit of the next would pass over it.
            await asyncio.wait([behind.task])
            behind = None
        try:
            if INVALID_HEADERS in headers:
                raise InvalidEvent(
                    f"header(s) {headers[INVALID_HEADERS]} are not UTF-8", code="bad_headers"
                )
            envelope = decode(record.value or b"", headers, expect=(PostRequested,))
        except InvalidEvent as invalid:
            if await _succeeded(behind):
                await self._dead_letter_invalid(record, headers, invalid)
                await commit(msg, record)
            return
        request = envelope.event
        assert isinstance(request, PostRequested)
        delivery = Delivery.from_headers(headers)
        structlog.contextvars.bind_contextvars(
            post_id=request.post_id, target_id=request.target_id, attempt=delivery.attempt
        )
        began = time.perf_counter()
        if behind is not None and behind.target_id == request.target_id:
            await asyncio.wait([behind.task])  # its lease is still held: let it settle first
        try:
            settle = _or_poison(await self._handler.start(request, delivery), request, delivery)
        except Exception as error:
            if not await _succeeded(behind):
                return  # the partition is rewound to the request before, which runs first
            if not self._strikes.poisoned(record, error):
                raise  # put back: a dependency away, or a first strike
            # No retry helps (POISON, or the same unexplained error again and again): a dead
            # letter with the reason, not a loop that holds the partition.
            settle = _poisoned(request, delivery, error)
        if not await _succeeded(behind):
            await self._record_only(settle)
            return
        received = _Received(msg, record, headers, request)
        if tier is None and self._overlap:
            settling = self._settle_behind(received, settle, began)
            task = asyncio.create_task(settling, name=f"settle:{request.target_id}")
            self._behind[_partition(record)] = _Behind(task, request.target_id, record.offset)
            return
        await self._settle(received, settle)
        self._observe(began)

    async def _record_only(self, settle: Settle) -> None:
        """Write a request's outcome to the ledger without reporting or committing it (the
        request before it failed to settle and runs again first; this one follows)."""
        try:
            await settle()
        except Exception:  # logged; the request runs again and finds its lease or its entry
            log.exception("message.settle_failed", stage="record_only")

    async def _settle_behind(self, received: _Received, settle: Settle, began: float) -> bool:
        """`_settle` behind the next request; False (partition rewound to it) when it failed."""
        try:
            await self._settle(received, settle)
        except Exception:  # nothing may be lost: rewind to the message and retry it
            log.exception("message.put_back", stage="settle", retry_in_s=RETRY_AFTER_ERROR_S)
            self._metrics.redeliveries.labels("settle").inc()
            retry_at = datetime.now(UTC) + timedelta(seconds=RETRY_AFTER_ERROR_S)
            with contextlib.suppress(IllegalStateError, KafkaError):  # revoked meanwhile
                self._pauser.hold(received.msg.consumer, received.record, retry_at)
            return False
        self._observe(began)
        return True

    async def _settle(self, received: _Received, settle: Settle) -> None:
        disposition = await settle()
        await self._carry_out(disposition, received.record, received.headers, received.request)
        await commit(received.msg, received.record)
        self._metrics.outcomes.labels(
            self._platform.value, disposition.outcome, disposition.category or ""
        ).inc()
        for event in disposition.events:
            if disposition.outcome == "published" and isinstance(event, PostPublished):
                late = (event.published_at - received.request.due_at).total_seconds()
                self._metrics.latency.labels(self._platform.value).observe(max(late, 0.0))
        _summary(disposition)

    def _observe(self, began: float) -> None:
        self._metrics.handle_seconds.labels(self._platform.value).observe(
            time.perf_counter() - began
        )

    async def _due(
        self, msg: KafkaMessage, record: Any, headers: dict[str, str], tier: str
    ) -> bool:
        now = datetime.now(UTC)
        arrived = datetime.fromtimestamp(record.timestamp / 1000, tz=UTC)
        decision = hold_decision(
            now, arrived, self._tiers[tier], Delivery.from_headers(headers).due_at
        )
        if isinstance(decision, Hold):
            self._metrics.tier_holds.labels(self._platform.value, tier).inc()
            self._pauser.hold(msg.consumer, record, decision.until)
            return False
        if isinstance(decision, Reroute):
            delivery = Delivery.from_headers(headers)
            assert delivery.due_at is not None
            route = ToTier(
                tier_for(decision.remaining_s, self._tiers),
                delivery.due_at,
                delivery.attempt,
                _reason(delivery),
                delivery.first_failure_at,
                delivery.checkpoint,
            )
            await self._router.to_tier(record, headers, route)
            await commit(msg, record)
            return False
        return True

    async def _carry_out(
        self, disposition: Disposition, record: Any, headers: dict[str, str], request: PostRequested
    ) -> None:
        route = disposition.route
        if isinstance(route, ToTier):
            await self._router.to_tier(record, headers, route)
            self._metrics.delayed.labels(self._platform.value, route.tier, route.reason.value).inc()
        elif isinstance(route, ToDeadLetter):
            await self._router.dead_letter(record, headers, route.error)
            self._metrics.dead_letters.labels(
                self._platform.value, disposition.category or ""
            ).inc()
        for event in disposition.events:
            await self._emitter.emit(event, topic=self._names.post_results, key=request.post_id)

    async def _dead_letter_invalid(
        self, record: Any, headers: dict[str, str], invalid: InvalidEvent
    ) -> None:
        error = {"category": "invalid_event", "code": invalid.code, "message": invalid.reason}
        await self._router.dead_letter(record, headers, error)
        self._metrics.invalid_events.labels(self._platform.value, invalid.code).inc()
        self._metrics.dead_letters.labels(self._platform.value, "invalid_event").inc()
        log.warning("message.dead_lettered", code=invalid.code, reason=invalid.reason)


def _or_poison(settle: Settle, request: PostRequested, delivery: Delivery) -> Settle:
    """`settle`, answering a `POISON` error of its own (an outcome that cannot be stored) as a
    dead letter instead of putting the request back forever."""

    async def settled() -> Disposition:
        try:
            return await settle()
        except POISON as poison:
            return await _poisoned(request, delivery, poison)()

    return settled


def _poisoned(request: PostRequested, delivery: Delivery, poison: BaseException) -> Settle:
    log.error("message.unprocessable", error=f"{type(poison).__name__}: {poison}"[:300])
    disposition = _unprocessable(request, delivery, poison, datetime.now(UTC))

    async def settle() -> Disposition:
        return disposition

    return settle


def _unprocessable(
    request: PostRequested, delivery: Delivery, error: BaseException, now: datetime
) -> Disposition:
    """A request whose handling raised one of `herald.consuming.POISON` (a value that cannot be
    converted, computed or stored): it would fail the same way each time, so instead of being put
    back forever it goes to the dead-letter topic with the reason, for a replay once fixed, and
    the target fails. Whether the platform saw it is not known (the error may come after the
    call), hence `unknown`."""
    reason = printable(f"{type(error).__name__}: {error}")[:300]
    detail = FailureDetail(
        category=ErrorCategory.UNKNOWN,
        code="unprocessable",
        message=f"Herald could not handle this request: {reason}",
        remediation="Check the post on the platform; the request is kept in the dead-letter "
        "topic for a replay.",
    )
    failed = PostFailed(
        post_id=request.post_id,
        target_id=request.target_id,
        business_id=request.business_id,
        integration_id=request.integration_id,
        platform=request.platform,
        attempt=delivery.attempt,
        final=True,
        error=detail,
        failed_at=now,
    )
    dead = ToDeadLetter(
        {
            "category": "unprocessable",
            "code": "unprocessable",
            "message": reason,
            "reason": "fails the same way on every attempt",
            "attempt": str(delivery.attempt),
        }
    )
    return Disposition("dead_lettered", dead, (failed,), "unprocessable")


def _partition(record: Any) -> tuple[str, int]:
    return (record.topic, record.partition)


@dataclass(frozen=True)
class _Received:
    msg: KafkaMessage
    record: Any
    headers: dict[str, str]
    request: PostRequested


@dataclass(frozen=True)
class _Behind:
    """A request of a partition settling behind the next one."""

    task: asyncio.Task[bool]
    target_id: str
    offset: int


async def _succeeded(behind: _Behind | None) -> bool:
    """Whether the request settling behind (if any) committed; waits for it."""
    if behind is None:
        return True
    await asyncio.wait([behind.task])
    task = behind.task
    return not task.cancelled() and task.exception() is None and task.result()


def _reason(delivery: Delivery) -> RetryReason:
    return (
        RetryReason(delivery.reason) if delivery.reason in ("retry", "wait") else RetryReason.WAIT
    )


def _summary(disposition: Disposition) -> None:
    for event in disposition.events:
        if isinstance(event, PostPublished):
            log.info(
                "post.published",
                outcome=disposition.outcome,
                platform_post_id=event.platform_post_id,
            )
        elif isinstance(event, PostRetryScheduled):
            log.info(
                "post.retry_scheduled",
                reason=event.reason.value,
                tier=event.tier,
                next_attempt_at=event.next_attempt_at.isoformat(),
                error_code=event.error.code if event.error else None,
            )
        elif isinstance(event, PostProgressed):
            log.info("post.waiting", stage=event.stage.value, detail=event.detail)
        elif isinstance(event, PostFailed):
            log.warning(
                "post.failed",
                outcome=disposition.outcome,
                category=event.error.category.value,
                error_code=event.error.code,
                message=event.error.message,
            )
    if not disposition.events:
        log.info("post.deferred", outcome=disposition.outcome)
