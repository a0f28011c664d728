"""`Infra.stop_broker`: shutdown never waits on Kafka beyond its bound."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from herald.infra import Infra
from herald.mongo import Document
from herald.settings import KafkaSettings, MongoSettings

pytestmark = pytest.mark.unit


class StuckBroker:
    """A broker whose consumers cannot leave their groups (a rebalance waits on a dead member)."""

    def __init__(self) -> None:
        self.cancelled = False

    async def stop(self) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise


class PromptBroker:
    def __init__(self) -> None:
        self.stopped = False

    async def stop(self) -> None:
        self.stopped = True


def infra(broker: Any) -> Infra:
    return Infra(
        broker=cast(KafkaBroker, broker),
        mongo=cast(AsyncMongoClient[Document], None),
        kafka_settings=KafkaSettings(graceful_timeout_s=0.05),
        mongo_settings=MongoSettings(),
    )


async def test_a_broker_that_cannot_leave_its_groups_does_not_hold_shutdown() -> None:
    broker = StuckBroker()
    await asyncio.wait_for(infra(broker).stop_broker(leave_groups_s=0.05), timeout=30)
    assert broker.cancelled


async def test_a_broker_that_stops_is_simply_stopped() -> None:
    broker = PromptBroker()
    await infra(broker).stop_broker(leave_groups_s=0.05)
    assert broker.stopped
