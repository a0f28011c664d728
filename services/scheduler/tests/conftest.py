"""Fixtures: an isolated scheduler environment (topics under a fresh prefix, a fresh database)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from pymongo.asynchronous.database import AsyncDatabase

from herald.mongo import Document
from herald.testkit import isolated_topics
from herald.topics import TopicNames
from herald_localstack.pytest_plugin import InfraEndpoints
from scheduler.testing import SchedulerEnv, topic_specs


@pytest.fixture
async def scheduler_env(
    infra: InfraEndpoints, mongo_db: AsyncDatabase[Document]
) -> AsyncIterator[SchedulerEnv]:
    names = TopicNames(prefix=f"t{uuid.uuid4().hex[:10]}.")
    async with isolated_topics(infra.kafka_bootstrap, topic_specs(names)):
        yield SchedulerEnv(infra.kafka_bootstrap, infra.mongo_uri, names, mongo_db)
