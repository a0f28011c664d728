"""`StatusSink` on Kafka: `message.status` events keyed by target id, with the CloudEvents id
the receiver derives from (message id, status), so a re-emission keeps its id."""

from __future__ import annotations

from herald.emitter import EventEmitter
from herald.events import MessageStatusEvent
from herald.topics import TopicNames


class KafkaStatusSink:
    def __init__(self, emitter: EventEmitter, names: TopicNames) -> None:
        self._emitter = emitter
        self._topic = names.message_status

    async def publish(self, event: MessageStatusEvent, *, event_id: str) -> None:
        await self._emitter.emit(
            event, topic=self._topic, key=event.target_id, headers={"ce_id": event_id}
        )
