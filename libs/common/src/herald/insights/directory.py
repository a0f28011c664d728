"""Transport: `integration.events`, so a publisher's account insights job knows the accounts
connected to its platform (docs/adr/0020). Each event of this platform's integrations is kept
in `insights_accounts` (the latest by `occurred_at`); offsets are committed per record after the
write; an unexpected error rewinds the partition to the record and pauses it briefly; an event
that cannot be decoded is skipped (the topic is auth-service's, which dead-letters nothing of
ours), as publisher-whatsapp's number directory does.
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
    IntegrationEvent,
    IntegrationExpired,
    IntegrationRefreshed,
)
from herald.insights.account_store import MongoAccounts
from herald.insights.accounts import Account
from herald.topics import Platform

log = structlog.get_logger(__name__)

RETRY_AFTER_ERROR_S = 2.0
_EXPECTED = (
    IntegrationConnected,
    IntegrationRefreshed,
    IntegrationExpired,
    IntegrationDisconnected,
)


class AccountDirectory:
    def __init__(self, platform: Platform, accounts: MongoAccounts) -> None:
        self._platform = platform
        self._accounts = accounts
        self._pauser = Pauser()

    def register(self, broker: KafkaBroker, *, topic: str, group: str) -> None:
        subscriber = broker.subscriber(
            topic,
            group_id=f"{group}.accounts",
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            parser=tolerant_parser,
            title=f"on_integration_event:{self._platform.value}",
            description="Remember the connected accounts whose insights the account job takes.",
        )
        subscriber(self.on_integration_event)

    def close(self) -> None:
        self._pauser.close()

    async def on_integration_event(self, msg: KafkaMessage) -> None:
        record: Any = msg.raw_message
        try:
            await self._handle(dict(msg.headers), record)
        except Exception:  # nothing may be lost: rewind to the record and take it again
            log.exception("message.put_back", stage="accounts", retry_in_s=RETRY_AFTER_ERROR_S)
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
        assert isinstance(event, IntegrationEvent)
        if event.platform is self._platform:
            await self.observe(event)

    async def observe(self, event: IntegrationEvent) -> None:
        account = Account(
            integration_id=event.integration_id,
            business_id=event.business_id,
            platform=event.platform.value,
            account_id=event.account_id,
        )
        kept = await self._accounts.observed(account, event.status.value, event.occurred_at)
        log.info("account.observed", integration_id=event.integration_id, kept=kept)
