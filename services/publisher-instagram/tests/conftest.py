"""Connected-test fixtures: the sandbox over real HTTP and an isolated publisher environment
(`publisher_instagram.connected`)."""

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
from publisher_instagram.connected import TEST_TIERS, Env, Sandbox, SandboxTokens, sandbox_server


@pytest.fixture
async def sandbox(request: pytest.FixtureRequest) -> AsyncIterator[Sandbox]:
    """Parametrize indirectly with a dict of sandbox settings to change them for one test."""
    overrides = getattr(request, "param", {})
    with sandbox_server(**overrides) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            built = Sandbox(url, http)
            demo = (await built.admin("GET", "/accounts"))["demo"]
            built.page_id, built.ig_user_id = demo["page_id"], demo["ig_user_id"]
            yield built


@pytest.fixture
async def env(
    infra: InfraEndpoints, mongo_db: AsyncDatabase[Document], sandbox: Sandbox
) -> AsyncIterator[Env]:
    names = TopicNames(prefix=f"t{uuid.uuid4().hex[:10]}.", tiers=TEST_TIERS)
    plan = names.plan(partitions=2, platforms=[Platform.INSTAGRAM])
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
