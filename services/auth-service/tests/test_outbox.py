"""Integration events survive a broker that is away: each is stored in `event_outbox` before it
is produced, removed once Kafka has it, and sent again (same CloudEvents id) by the outbox loop."""

from __future__ import annotations

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from auth_service.handlers.base import drain_outbox
from auth_service.testing import WorldFactory, emitted
from herald.events import IntegrationConnected, IntegrationDisconnected
from herald.mongo import Document

pytestmark = pytest.mark.connected


async def test_an_event_the_broker_refused_is_kept_and_sent_again_with_its_id(
    make_world: WorldFactory, mongo_db: AsyncDatabase[Document]
) -> None:
    world = await make_world()
    [integration] = await world.connect("facebook")
    iid = integration["integration_id"]
    recording = emitted(world.components)
    [connected] = recording.emitted
    assert isinstance(connected.event, IntegrationConnected)
    assert await mongo_db["event_outbox"].count_documents({}) == 0  # produced: not kept

    recording.fail_with = ConnectionError("broker unreachable")
    response = await world.client.delete(f"/v1/integrations/{iid}", headers=world.auth)
    assert response.status_code == 200  # the state change stands though the event is late
    [kept] = await mongo_db["event_outbox"].find().to_list()
    assert kept["event_type"] == IntegrationDisconnected.event_type
    assert kept["key"] == iid

    deps = world.components.deps
    assert await drain_outbox(deps, min_age_s=0) == 0  # broker still away: nothing lost
    assert await mongo_db["event_outbox"].count_documents({}) == 1
    recording.fail_with = None
    assert await drain_outbox(deps, min_age_s=3600) == 0  # too young: its first send may run
    assert await drain_outbox(deps, min_age_s=0) == 1

    sent = recording.emitted[-1]
    assert isinstance(sent.event, IntegrationDisconnected)
    assert sent.event.integration_id == iid
    assert sent.event.reason == "disconnected_by_business"
    assert sent.key == iid
    assert sent.headers["ce_id"] == kept["_id"]
    assert await mongo_db["event_outbox"].count_documents({}) == 0
    assert await drain_outbox(deps, min_age_s=0) == 0  # sent once
