"""Fixtures for runtime tests on the real broker: isolated topics with short delay tiers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from herald.kafka import provision_topics
from herald.mongo import Document
from herald.runtime.app import build_publisher
from herald.runtime.ports import PlatformAdapter
from herald.runtime.settings import PublisherSettings, RetrySettings
from herald.settings import HttpServerSettings, KafkaSettings, MongoSettings
from herald.testing import StaticTokens
from herald.topics import Platform, TopicNames
from herald_localstack.pytest_plugin import InfraEndpoints

TEST_TIERS = {"1s": 1, "3s": 3}


@dataclass
class RuntimeEnv:
    infra: InfraEndpoints
    names: TopicNames
    db: AsyncDatabase[Document]

    def settings(self, **retry: Any) -> PublisherSettings:
        return PublisherSettings(
            http=HttpServerSettings(port=1),
            database=self.db.name,
            kafka=KafkaSettings(
                bootstrap_servers=self.infra.kafka_bootstrap, graceful_timeout_s=1.0
            ),
            mongo=MongoSettings(uri=self.infra.mongo_uri),
            retry=RetrySettings(
                **{"max_attempts": 3, "backoff_s": [1.0, 1.0], "jitter": 0.0, **retry}
            ),
            lease_s=2.0,
            busy_retry_s=1.0,
            topic_prefix=self.names.prefix,
        )

    def app(self, platform: PlatformAdapter, **retry: Any) -> FastAPI:
        runtime = build_publisher(
            platform.name, self.settings(**retry), tokens=StaticTokens(), names=self.names
        )
        return runtime.app(platform)

    @property
    def requested(self) -> str:
        return self.names.requested(Platform.FACEBOOK)


@pytest.fixture
async def runtime_env(
    infra: InfraEndpoints, mongo_db: AsyncDatabase[Document]
) -> AsyncIterator[RuntimeEnv]:
    names = TopicNames(prefix=f"t{uuid.uuid4().hex[:10]}.", tiers=TEST_TIERS)
    plan = names.plan(partitions=2, platforms=[Platform.FACEBOOK])
    await provision_topics(infra.kafka_bootstrap, plan)
    try:
        yield RuntimeEnv(infra, names, mongo_db)
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([t.name for t in plan])
        finally:
            await admin.close()
