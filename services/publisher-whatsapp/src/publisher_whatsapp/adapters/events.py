"""Kafka adapters on `message.status` (keyed by target id): `StatusSink`, with the CloudEvents id
the receiver derives from (message id, status), so a re-emission keeps its id; and
`RelayedContactFlags`, the `ContactFlags` port as `herald.message.recipient_flagged.v1`."""

from __future__ import annotations

import uuid

from herald.emitter import EventEmitter
from herald.errors import ErrorCategory
from herald.events import FailureDetail, MessageStatusEvent, RecipientFlagged
from herald.topics import Platform, TopicNames
from publisher_whatsapp.adapters.store import MongoContactFlags
from publisher_whatsapp.ports import ContactFlag


class KafkaStatusSink:
    def __init__(self, emitter: EventEmitter, names: TopicNames) -> None:
        self._emitter = emitter
        self._topic = names.message_status

    async def publish(self, event: MessageStatusEvent, *, event_id: str) -> None:
        await self._emitter.emit(
            event, topic=self._topic, key=event.target_id, headers={"ce_id": event_id}
        )


class RelayedContactFlags:
    """Claim the flag (once per business, number and reason), produce it, mark it relayed; a
    flag claimed before whose event did not go out is produced again, with the same id."""

    def __init__(self, store: MongoContactFlags, emitter: EventEmitter, names: TopicNames) -> None:
        self._store = store
        self._emitter = emitter
        self._topic = names.message_status

    async def flag(self, flag: ContactFlag) -> bool:
        if not await self._store.claim(flag):
            return False
        event = RecipientFlagged(
            post_id=flag.post_id,
            target_id=flag.target_id,
            business_id=flag.business_id,
            integration_id=flag.integration_id,
            platform=Platform.WHATSAPP,
            recipient_id=flag.recipient_id,
            to=flag.to,
            reason=flag.reason,
            error=FailureDetail(
                category=ErrorCategory.PERMANENT,
                code=flag.code,
                message=flag.message,
                remediation=flag.remediation,
            ),
            flagged_at=flag.observed_at,
        )
        key = f"whatsapp-flag:{flag.business_id}:{flag.to}:{flag.reason}"
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, key))
        await self._emitter.emit(
            event, topic=self._topic, key=flag.target_id, headers={"ce_id": event_id}
        )
        await self._store.relayed(flag)
        return True
