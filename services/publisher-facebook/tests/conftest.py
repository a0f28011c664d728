"""Connected-test fixtures: the sandbox over real HTTP and an isolated publisher environment
(`publisher_facebook.connected`)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from pymongo.asynchronous.database import AsyncDatabase

from herald.kafka import provision_topics
from herald.mongo import Document
from herald.topics import Platform, TopicNames
from herald_localstack.pytest_plugin import InfraEndpoints
from publisher_facebook.connected import TEST_TIERS, Env, Sandbox, SandboxTokens, sandbox_server


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    with sandbox_server() as url:
        async with httpx.AsyncClient(timeout=30) as http:
            built = Sandbox(url, http)
            built.page_id = (await built.admin("GET", "/accounts"))["demo"]["page_id"]
            yield built


@pytest.fixture
async def env(
    infra: InfraEndpoints, mongo_db: AsyncDatabase[Document], sandbox: Sandbox
) -> AsyncIterator[Env]:
    names = TopicNames(prefix=f"t{uuid.uuid4().hex[:10]}.", tiers=TEST_TIERS)
    plan = names.plan(partitions=2, platforms=[Platform.FACEBOOK])
    await provision_topics(infra.kafka_bootstrap, plan)
    try:
        yield Env(
            infra.kafka_bootstrap, infra.mongo_uri, names, mongo_db, sandbox, SandboxTokens(sandbox)
        )
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([t.name for t in plan])
        finally:
            await admin.close()
