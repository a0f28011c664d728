"""Transport: the scheduler's subscriber of `post.insights` (ADR 0003, ADR 0020).

As for the scheduler's other subscribers (`scheduler.subscribers`): the offset is committed only
once the snapshot is stored; an unexpected error (MongoDB away, a bug) rewinds the partition to
the message and pauses it briefly, so nothing is lost; a message that cannot be decoded, or whose
content fails the same way each time (`POISON`), is kept with its reason in `rejections` and
committed, never retried forever nor skipped unseen.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from herald.cloudevents import decode
from herald.consuming import INVALID_HEADERS, POISON, Pauser, commit, raw_body, tolerant_parser
from herald.errors import InvalidEvent
from herald.events import (
    AccountInsightsCollected,
    AccountInsightsUnavailable,
    MessageStatusEvent,
    PostInsightsCollected,
    PostInsightsRequested,
    PostInsightsUnavailable,
    Violation,
)
from herald.inputs import printable
from herald.topics import Platform
from herald.tracing import consuming
from scheduler.analytics.account_store import MongoAccountDays
from scheduler.analytics.store import MongoAnalytics
from scheduler.models import Rejection
from scheduler.ports import PostStore
from scheduler.subscribers import RETRY_AFTER_ERROR_S

log = structlog.get_logger(__name__)

SNAPSHOTS = (PostInsightsCollected, PostInsightsUnavailable)
ACCOUNT_DAYS = (AccountInsightsCollected, AccountInsightsUnavailable)  # ADR 0020


class InsightsSubscriber:
    STAGE = "insights"

    def __init__(
        self,
        store: MongoAnalytics,
        posts: PostStore,
        clock: Callable[[], datetime],
        accounts: MongoAccountDays | None = None,
    ) -> None:
        self._store = store
        self._accounts = accounts  # account days, told on the same topic
        self._posts = posts  # where an unreadable message is kept
        self._clock = clock
        self._pauser = Pauser()

    def register(self, broker: KafkaBroker, *, topic: str, group: str) -> None:
        subscriber = broker.subscriber(
            topic,
            group_id=f"{group}.{self.STAGE}",
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            parser=tolerant_parser,
            decoder=raw_body,
            title=f"on_{self.STAGE}",
        )
        subscriber(self.handle)

    def close(self) -> None:
        self._pauser.close()

    async def handle(self, msg: KafkaMessage) -> None:
        record: Any = msg.raw_message
        headers = dict(msg.headers)
        attributes = {"messaging.destination.name": record.topic}
        with consuming(f"consume {self.STAGE}", headers, **attributes):
            try:
                await self._record(record, headers)
            except POISON as exc:
                reason = printable(f"{type(exc).__name__}: {exc}")[:300]
                await self._keep(record, headers, reason, "unprocessable")
            except Exception:  # nothing may be lost: rewind to the message and retry it
                log.exception(
                    "analytics.put_back", stage=self.STAGE, retry_in_s=RETRY_AFTER_ERROR_S
                )
                retry_at = datetime.now(UTC) + timedelta(seconds=RETRY_AFTER_ERROR_S)
                self._pauser.hold(msg.consumer, record, retry_at)
                return
        await commit(msg, record)

    async def _record(self, record: Any, headers: dict[str, str]) -> None:
        if headers.get("ce_type") == PostInsightsRequested.event_type:
            return  # a refresh this scheduler asked for: the publishers' to take
        try:
            if INVALID_HEADERS in headers:
                msg = f"header(s) {headers[INVALID_HEADERS]} are not UTF-8"
                raise InvalidEvent(msg, code="bad_headers")
            envelope = decode(record.value or b"", headers, expect=(*SNAPSHOTS, *ACCOUNT_DAYS))
        except InvalidEvent as invalid:
            await self._keep(record, headers, invalid.reason, invalid.code)
            return
        event = envelope.event
        if isinstance(event, ACCOUNT_DAYS) and self._accounts is not None:
            new = await self._accounts.record(
                event, event_id=envelope.id, received_at=self._clock()
            )
            effect = "recorded" if new else "duplicate"
            log.info("account_day.recorded", integration_id=event.integration_id, effect=effect)
            return
        assert isinstance(event, SNAPSHOTS)
        kind = await self._kind(event)
        new = await self._store.record(
            event, kind=kind, event_id=envelope.id, received_at=self._clock()
        )
        log.info(
            "insights.recorded",
            target_id=event.target_id,
            age_s=event.age_s,
            effect="recorded" if new else "duplicate",
        )

    async def _kind(self, event: PostInsightsCollected | PostInsightsUnavailable) -> str | None:
        """The target's post kind (`options.kind`), which decides the metrics an Instagram
        media has; None for a post this scheduler does not know. Only Instagram's options have
        a kind (`herald.content`), so the other platforms' snapshots cost no reads."""
        if event.platform is not Platform.INSTAGRAM:
            return None
        target = await self._posts.get_target(event.target_id)
        post = await self._posts.get_post(event.business_id, event.post_id)
        if target is None or post is None or target.index >= len(post.targets):
            return None
        kind = post.targets[target.index].options.get("kind")
        return kind if isinstance(kind, str) else None

    async def _keep(self, record: Any, headers: dict[str, str], reason: str, code: str) -> None:
        log.warning("insights.unreadable", code=code, reason=reason)
        await self._posts.add_rejection(
            Rejection(
                id=f"{record.topic}:{record.partition}:{record.offset}",
                business_id=headers.get("ce_businessid"),
                source_event_id=headers.get("ce_id"),
                violations=[Violation(path="(event)", message=reason, code=code)],
                body=record.value or b"",
                headers=headers,
                rejected_at=self._clock(),
                submission=False,
            )
        )


class PricingSubscriber(InsightsSubscriber):
    """WhatsApp's pricing category of each message, from `message.status` in a consumer group
    of its own: the scheduler's statuses consumer keeps what cannot be read, so this one only
    logs it. One category per message (the first status that names one)."""

    STAGE = "pricing"

    async def _record(self, record: Any, headers: dict[str, str]) -> None:
        try:
            envelope = decode(record.value or b"", headers)
        except InvalidEvent as invalid:
            await self._keep(record, headers, invalid.reason, invalid.code)
            return
        event = envelope.event
        if isinstance(event, MessageStatusEvent) and event.pricing_category is not None:
            await self._store.record_pricing(event)

    async def _keep(self, record: Any, headers: dict[str, str], reason: str, code: str) -> None:
        log.info("pricing.unreadable_left_to_statuses", code=code, reason=reason)
