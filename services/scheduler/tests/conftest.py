"""Fixtures: an isolated scheduler environment (topics under a fresh prefix, a fresh database)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from pymongo.asynchronous.database import AsyncDatabase

from herald.kafka import provision_topics
from herald.mongo import Document
from herald.topics import TopicNames
from herald_localstack.pytest_plugin import InfraEndpoints
from scheduler.testing import SchedulerEnv, topic_specs


@pytest.fixture
async def scheduler_env(
    infra: InfraEndpoints, mongo_db: AsyncDatabase[Document]
) -> AsyncIterator[SchedulerEnv]:
    names = TopicNames(prefix=f"t{uuid.uuid4().hex[:10]}.")
    specs = topic_specs(names)
    await provision_topics(infra.kafka_bootstrap, specs)
    try:
        yield SchedulerEnv(infra.kafka_bootstrap, infra.mongo_uri, names, mongo_db)
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([s.name for s in specs])
        finally:
            await admin.close()
