"""Transport: the scheduler's Kafka subscribers (`post.submitted`, `post.results`,
`integration.events`, `message.status`).

A `post.submitted` becomes a post only when signed by an API key of the business it names
(`handlers.producers`); otherwise it is a rejection with the reason, kept and answered.

Offsets are committed per record and only after the work is durable (a result's commit is
not waited for: recording it again changes nothing). An unexpected error (MongoDB, auth-service or
Kafka unreachable, a bug) never drops a message: its partition is rewound to it and paused
briefly, and it runs again. A message that cannot be decoded is kept and answered, never a crash;
so is one whose content fails the same way each time it is handled (`POISON`: a value that cannot
be converted or stored), or that meets the same error no dependency explains three times in a
row (`herald.consuming.Strikes`: a bug the input found), which would otherwise be retried forever.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from herald.cloudevents import Envelope, decode
from herald.consuming import (
    INVALID_HEADERS,
    Pauser,
    Strikes,
    commit,
    commit_soon,
    raw_body,
    tolerant_parser,
)
from herald.errors import InvalidEvent
from herald.events import (
    IntegrationEvent,
    MessageDelivered,
    MessageFailed,
    MessageRead,
    MessageSent,
    PostFailed,
    PostPublished,
    PostRejected,
    PostSubmitted,
    RecipientFlagged,
    Violation,
)
from herald.inputs import printable
from herald.tracing import consuming
from scheduler.correlation import rejected_identity
from scheduler.errors import Conflict, Rejected
from scheduler.handlers.base import Deps
from scheduler.handlers.producers import Freshness, check_producer
from scheduler.handlers.recipients import record_flag, record_outcomes, record_status
from scheduler.handlers.submit import submit
from scheduler.metrics import SchedulerMetrics
from scheduler.models import Rejection
from scheduler.ports import ApiKeys
from scheduler.settings import IngestSettings
from scheduler.webhooks.telling import RESULTS, record_integration, record_result

log = structlog.get_logger(__name__)

RETRY_AFTER_ERROR_S = 2.0
INTEGRATIONS = tuple(IntegrationEvent.__subclasses__())  # connected, refreshed, expired, ended
STATUSES = (MessageSent, MessageDelivered, MessageRead, MessageFailed, RecipientFlagged)
SPANS = {"submitted": "ingest post.submitted", "results": "result post.results"}  # else consume

Work = Callable[[KafkaMessage, Any, dict[str, str]], Awaitable[None]]


class Subscribers:
    def __init__(
        self,
        deps: Deps,
        metrics: SchedulerMetrics,
        keys: ApiKeys,
        ingest: IngestSettings,
        *,
        results_consumers: int = 1,
    ) -> None:
        self._deps = deps
        # Results: several partitions at once (ADR 0026); joiners rebalance at the next beat.
        self._several: dict[str, Any] = {"max_workers": results_consumers}
        self._several["heartbeat_interval_ms"] = 500
        self._metrics = metrics
        self._keys = keys  # who signed a post.submitted (handlers.producers)
        self._freshness = Freshness(ingest.signature_max_age_s, ingest.signature_max_ahead_s)
        self._pauser = Pauser()
        self._strikes = Strikes()

    def register(self, broker: KafkaBroker, *, group: str) -> None:
        names = self._deps.names
        routes: list[tuple[str, str, Work]] = [
            (names.post_submitted, "submitted", self._on_post_submitted),
            (names.post_results, "results", self._on_post_result),
            (names.integration_events, "integrations", self._on_integration_event),
            (names.message_status, "statuses", self._on_message_status),
        ]
        for topic, stage, work in routes:
            subscriber = broker.subscriber(
                topic,
                group_id=f"{group}.{stage}",
                ack_policy=AckPolicy.MANUAL,
                auto_offset_reset="earliest",
                parser=tolerant_parser,
                decoder=raw_body,
                title=f"on_{stage}",
                **(self._several if stage == "results" else {}),
            )
            subscriber(self._handler(stage, work))

    def close(self) -> None:
        self._pauser.close()

    def _handler(self, stage: str, work: Work) -> Callable[[KafkaMessage], Awaitable[None]]:
        async def handle(msg: KafkaMessage) -> None:
            record: Any = msg.raw_message
            headers = dict(msg.headers)
            structlog.contextvars.bind_contextvars(
                topic=record.topic, partition=record.partition, offset=record.offset
            )
            name = SPANS.get(stage, f"consume {stage}")  # a child of the message's trace context
            with consuming(name, headers, **{"messaging.destination.name": record.topic}):
                try:
                    await self._unless_poison(stage, work, msg, record, headers)
                except Exception:  # nothing may be lost: rewind to the message and retry it
                    log.exception("message.put_back", stage=stage, retry_in_s=RETRY_AFTER_ERROR_S)
                    self._metrics.put_back.labels(stage).inc()
                    retry_at = datetime.now(UTC) + timedelta(seconds=RETRY_AFTER_ERROR_S)
                    self._pauser.hold(msg.consumer, record, retry_at)
                finally:
                    structlog.contextvars.unbind_contextvars(
                        "topic", "partition", "offset", "post_id", "target_id"
                    )

        handle.__name__ = f"on_{stage}"
        return handle

    async def _unless_poison(
        self, stage: str, work: Work, msg: KafkaMessage, record: Any, headers: dict[str, str]
    ) -> None:
        try:
            await work(msg, record, headers)
        except Exception as exc:
            if not self._strikes.poisoned(record, exc):
                raise  # put back: a dependency away, or a first strike
            reason = printable(f"{type(exc).__name__}: {exc}")[:300]
            log.error("message.unprocessable", stage=stage, reason=reason)
            violation = Violation(
                path="(event)",
                message=f"This event cannot be handled: {reason}",
                code="unprocessable",
            )
            if stage == "submitted":
                await self._reject(record, headers, [violation], None, "unprocessable")
            else:
                await self._keep(record, headers, violation)
            await commit(msg, record)

    async def _decode(self, record: Any, headers: dict[str, str], **kwargs: Any) -> Envelope:
        if INVALID_HEADERS in headers:
            msg = f"header(s) {headers[INVALID_HEADERS]} are not UTF-8"
            raise InvalidEvent(msg, code="bad_headers")
        return decode(record.value or b"", headers, **kwargs)

    async def _on_post_submitted(
        self, msg: KafkaMessage, record: Any, headers: dict[str, str]
    ) -> None:
        try:
            envelope = await self._decode(
                record, headers, accept_structured=True, expect=(PostSubmitted,)
            )
        except InvalidEvent as invalid:
            violation = Violation(path="(event)", message=invalid.reason, code=invalid.code)
            await self._reject(record, headers, [violation], None, invalid.code)
            await commit(msg, record)
            return
        submission = envelope.event
        assert isinstance(submission, PostSubmitted)
        refusal = await check_producer(
            self._keys,
            record.value or b"",
            headers,
            submission.business_id,
            stated_business=envelope.business_id,
            now=self._deps.clock(),
            freshness=self._freshness,
        )
        if refusal is not None:  # not proven to come from the business: no post, a rejection
            await self._reject(record, headers, [refusal.violation], envelope, refusal.reason)
            await commit(msg, record)
            return
        try:
            result = await submit(
                self._deps, submission, source="event", source_event_id=envelope.id
            )
        except Rejected as rejected:
            await self._reject(record, headers, rejected.violations, envelope, "violations")
        except Conflict as conflict:
            violation = Violation(path="idempotency_key", message=conflict.message, code="conflict")
            await self._reject(record, headers, [violation], envelope, "conflict")
        else:
            outcome = "accepted" if result.created else "replayed"
            self._metrics.ingestion.labels(outcome, "").inc()
            log.info("post.submitted", outcome=outcome, post_id=result.post.id)
        await commit(msg, record)

    async def _reject(
        self,
        record: Any,
        headers: dict[str, str],
        violations: list[Violation],
        envelope: Envelope | None,
        reason: str,
    ) -> None:
        """Keep the input as it came (body and headers), then answer with `post.rejected`."""
        business, key = rejected_identity(envelope, record.value or b"", headers)
        now = self._deps.clock()
        await self._deps.posts.add_rejection(
            Rejection(
                id=f"{record.topic}:{record.partition}:{record.offset}",
                business_id=business,
                idempotency_key=key,
                source_event_id=envelope.id if envelope else headers.get("ce_id"),
                violations=violations,
                body=record.value or b"",
                headers=headers,
                rejected_at=now,
            )
        )
        event = PostRejected(
            business_id=business,
            idempotency_key=key,
            source_event_id=envelope.id if envelope else headers.get("ce_id"),
            violations=violations,
            rejected_at=now,
        )
        partition_key = business or key or f"{record.topic}:{record.partition}"
        await self._deps.emitter.emit(event, topic=self._deps.names.post_results, key=partition_key)
        self._metrics.ingestion.labels("rejected", reason).inc()
        log.warning("post.rejected", reason=reason, violations=len(violations))

    async def _on_post_result(
        self, msg: KafkaMessage, record: Any, headers: dict[str, str]
    ) -> None:
        try:
            envelope = await self._decode(record, headers)
        except InvalidEvent as invalid:
            log.warning("result.undecodable", code=invalid.code, reason=invalid.reason)
            self._metrics.results.labels("undecodable", invalid.code).inc()
            await commit(msg, record)
            return
        result = envelope.event
        if isinstance(result, RESULTS):
            structlog.contextvars.bind_contextvars(
                post_id=result.post_id, target_id=result.target_id
            )
            occurred = envelope.time or self._deps.clock()
            effect = await record_result(
                self._deps, result, event_id=envelope.id, occurred_at=occurred
            )
            self._metrics.results.labels(result.event_type, effect).inc()
            log.info("result.recorded", event_type=result.event_type, effect=effect)
            if isinstance(result, PostPublished | PostFailed) and effect != "unknown_target":
                for outcome in await record_outcomes(self._deps, result, occurred_at=occurred):
                    self._metrics.broadcasts.recipients.labels(outcome).inc()
        # Recording a result again changes nothing (history by event id, forward-only states,
        # notices by derived ids): the next need not wait for this commit (ADR 0004).
        commit_soon(msg, record)

    async def _on_integration_event(
        self, msg: KafkaMessage, record: Any, headers: dict[str, str]
    ) -> None:
        try:
            envelope = await self._decode(record, headers, expect=INTEGRATIONS)
        except InvalidEvent as invalid:
            log.warning("integration_event.undecodable", code=invalid.code, reason=invalid.reason)
            await commit(msg, record)
            return
        event = envelope.event
        assert isinstance(event, IntegrationEvent)
        newer = await record_integration(self._deps, event, event_id=envelope.id)
        log.info("integration.observed", status=event.status.value, applied=newer)
        await commit(msg, record)

    async def _on_message_status(
        self, msg: KafkaMessage, record: Any, headers: dict[str, str]
    ) -> None:
        """A delivery status or a flagged number; one that cannot be read is kept with its body
        and headers (`rejections`), never skipped unseen."""
        try:
            envelope = await self._decode(record, headers, expect=STATUSES)
        except InvalidEvent as invalid:
            log.warning("status.undecodable", code=invalid.code, reason=invalid.reason)
            violation = Violation(path="(event)", message=invalid.reason, code=invalid.code)
            await self._keep(record, headers, violation)
            self._metrics.broadcasts.statuses.labels("undecodable", invalid.code).inc()
            await commit(msg, record)
            return
        event = envelope.event
        if isinstance(event, RecipientFlagged):
            effect = await record_flag(self._deps, event)
            self._metrics.broadcasts.statuses.labels("recipient_flagged", effect).inc()
        else:
            assert isinstance(event, MessageSent | MessageDelivered | MessageRead | MessageFailed)
            status, new = await record_status(self._deps, event)
            self._metrics.broadcasts.statuses.labels(
                status, "recorded" if new else "duplicate"
            ).inc()
            if new:
                state = "undelivered" if status == "failed" else status
                self._metrics.broadcasts.recipients.labels(state).inc()
        await commit(msg, record)

    async def _keep(self, record: Any, headers: dict[str, str], violation: Violation) -> None:
        await self._deps.posts.add_rejection(
            Rejection(
                id=f"{record.topic}:{record.partition}:{record.offset}",
                business_id=headers.get("ce_businessid"),
                source_event_id=headers.get("ce_id"),
                violations=[violation],
                body=record.value or b"",
                headers=headers,
                rejected_at=self._deps.clock(),
                submission=False,
            )
        )
