"""Moving a message on: to a delay tier or to the dead-letter topic, keyed as it came.

Each call returns after the broker acknowledged the write, so the caller may then commit the
input offset: the message is always either still unconsumed or durably somewhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from faststream.kafka import KafkaBroker

from herald.delivery import dead_letter_headers, deferred_headers
from herald.producing import publish
from herald.runtime.handler import ToTier
from herald.topics import Platform, TopicNames


class KafkaRouter:
    def __init__(self, broker: KafkaBroker, platform: Platform, names: TopicNames) -> None:
        self._broker = broker
        self._platform = platform
        self._names = names

    async def to_tier(self, record: Any, headers: Mapping[str, str], route: ToTier) -> None:
        target = self._names.delay(self._platform, route.tier)
        new_headers = deferred_headers(
            headers,
            attempt=route.attempt,
            due_at=route.due_at,
            reason=route.reason.value,
            first_failure_at=route.first_failure_at,
            checkpoint=route.checkpoint,
            origin_topic=self._names.requested(self._platform),
        )
        await publish(
            self._broker, record.value or b"", target, key=record.key, headers=new_headers
        )

    async def dead_letter(
        self, record: Any, headers: Mapping[str, str], error: Mapping[str, str | None]
    ) -> None:
        new_headers = dead_letter_headers(
            headers,
            error=error,
            source_topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            failed_at=datetime.now(UTC),
        )
        await publish(
            self._broker,
            record.value or b"",
            self._names.dlq(self._platform),
            key=record.key,
            headers=new_headers,
        )
