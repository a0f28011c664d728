"""Transport: `integration.events`, so the webhook knows a WhatsApp number from the moment it is
connected, before anything is sent from it (inbound messages and statuses of numbers not yet
known are refused, ADR 0007).

`integration.connected` and `integration.refreshed` of a WhatsApp integration record its phone
number id (the integration's `account_id`). Offsets are committed per record after the write; an
unexpected error rewinds the partition to the record and pauses it briefly; an event that cannot
be decoded is skipped (the topic is auth-service's, which dead-letters nothing of ours).
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
from herald.events import (
    IntegrationConnected,
    IntegrationDisconnected,
    IntegrationExpired,
    IntegrationRefreshed,
)
from herald.runtime.app import PublisherRuntime
from herald.topics import Platform
from publisher_whatsapp.ports import MessageLog

log = structlog.get_logger(__name__)

RETRY_AFTER_ERROR_S = 2.0
_EXPECTED = (
    IntegrationConnected,
    IntegrationRefreshed,
    IntegrationExpired,
    IntegrationDisconnected,
)


class NumberDirectory:
    def __init__(self, numbers: MessageLog) -> None:
        self._numbers = numbers
        self._pauser = Pauser()

    def attach(self, runtime: PublisherRuntime) -> None:
        """Learn numbers from `integration.events` while the publisher runs."""
        self.register(runtime.broker, topic=runtime.names.integration_events, group=runtime.group)
        runtime.on_stop(self.close)

    def register(self, broker: KafkaBroker, *, topic: str, group: str) -> None:
        subscriber = broker.subscriber(
            topic,
            group_id=f"{group}.integrations",
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            parser=tolerant_parser,
            title="on_integration_event:whatsapp",
            description="Remember the phone numbers of connected WhatsApp integrations.",
        )
        subscriber(self.on_integration_event)

    def close(self) -> None:
        self._pauser.close()

    async def on_integration_event(self, msg: KafkaMessage) -> None:
        record: Any = msg.raw_message
        try:
            await self._handle(dict(msg.headers), record)
        except Exception:  # nothing may be lost: rewind to the record and take it again
            log.exception("message.put_back", stage="integrations", retry_in_s=RETRY_AFTER_ERROR_S)
            retry_at = datetime.now(UTC) + timedelta(seconds=RETRY_AFTER_ERROR_S)
            self._pauser.hold(msg.consumer, record, retry_at)
            return
        await commit(msg, record)

    async def _handle(self, headers: dict[str, str], record: Any) -> None:
        try:
            if INVALID_HEADERS in headers:
                raise InvalidEvent("headers are not UTF-8", code="bad_headers")
            event = decode(record.value or b"", headers, expect=_EXPECTED).event
        except InvalidEvent as invalid:
            log.warning("integration_event.skipped", code=invalid.code, reason=invalid.reason)
            return
        if isinstance(event, IntegrationConnected | IntegrationRefreshed) and (
            event.platform is Platform.WHATSAPP
        ):
            await self._numbers.remember_number(
                event.account_id, event.integration_id, event.business_id
            )
            log.info("whatsapp.number_known", integration_id=event.integration_id)
