"""Transport: the refreshes a business asked for (`herald.post.insights_requested.v1`, emitted
by the scheduler's `POST /v1/posts/{id}/analytics/refresh` on `post.insights`), taken by the
publisher of the target's platform (ADR 0003).

The topic also carries every publisher's snapshots: a record of another type, or a request for
another platform, is committed unread. A request older than `STALE_S` (a consumer group that
starts late, a partition paused a long time) is dropped: the business asked for figures then,
and the scheduled snapshots follow anyway. Offsets are committed per record after the snapshot
is told; an unexpected error (MongoDB away) rewinds the partition to the record and pauses it
briefly; a request that cannot be decoded is logged and skipped (its figures only were asked for).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from herald.cloudevents import decode
from herald.consuming import INVALID_HEADERS, Pauser, commit, tolerant_parser
from herald.errors import InvalidEvent
from herald.events import PostInsightsRequested
from herald.insights.collector import InsightsCollector
from herald.topics import Platform

log = structlog.get_logger(__name__)

RETRY_AFTER_ERROR_S = 2.0
STALE_S = 3_600.0


class RefreshRequests:
    def __init__(self, collector: InsightsCollector, platform: Platform, *, enabled: bool) -> None:
        self._collector = collector
        self._platform = platform
        self._enabled = enabled  # with the insights job off, a refresh is logged, not taken
        self._pauser = Pauser()

    def register(self, broker: KafkaBroker, *, topic: str, group: str) -> None:
        subscriber = broker.subscriber(
            topic,
            group_id=f"{group}.insights-requests",
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            parser=tolerant_parser,
            title=f"on_insights_requested:{self._platform.value}",
            description="Take a snapshot now of a published post a business asked to refresh.",
        )
        subscriber(self.on_request)

    def close(self) -> None:
        self._pauser.close()

    async def on_request(self, msg: KafkaMessage) -> None:
        record: Any = msg.raw_message
        try:
            await self._handle(dict(msg.headers), record)
        except Exception:  # nothing may be lost: rewind to the record and take it again
            log.exception("message.put_back", stage="insights-requests")
            retry_at = datetime.now(UTC) + timedelta(seconds=RETRY_AFTER_ERROR_S)
            self._pauser.hold(msg.consumer, record, retry_at)
            return
        await commit(msg, record)

    async def _handle(self, headers: dict[str, str], record: Any) -> None:
        if headers.get("ce_type") != PostInsightsRequested.event_type:
            return  # a snapshot: the scheduler's and other systems' to read
        try:
            if INVALID_HEADERS in headers:
                raise InvalidEvent("headers are not UTF-8", code="bad_headers")
            event = decode(record.value or b"", headers, expect=(PostInsightsRequested,)).event
        except InvalidEvent as invalid:
            log.warning("insights_request.skipped", code=invalid.code, reason=invalid.reason)
            return
        assert isinstance(event, PostInsightsRequested)
        if event.platform is not self._platform:
            return
        if datetime.now(UTC) - event.requested_at > timedelta(seconds=STALE_S):
            log.info("insights_request.stale", target_id=event.target_id)
            return
        if not self._enabled:
            log.warning("insights_request.job_disabled", target_id=event.target_id)
            return
        await self._collector.refresh(event.target_id)
