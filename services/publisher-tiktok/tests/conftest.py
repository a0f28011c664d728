"""Fixtures: the sandbox in-process with small chunk rules (unit), and for connected tests the
sandbox over real HTTP plus an isolated publisher environment (`publisher_tiktok.connected`)."""

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
from platform_sandbox.settings import Settings as SandboxSettings
from platform_sandbox.testing import SandboxHarness
from publisher_tiktok.connected import (
    TEST_TIERS,
    Env,
    Sandbox,
    SandboxTokens,
    free_port,
    sandbox_server,
)
from publisher_tiktok.testing import SMALL_SANDBOX


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxHarness]:
    settings = SandboxSettings.model_validate(
        {"webhooks": {"auto_deliver": False}, "tiktok": SMALL_SANDBOX}
    )
    harness = SandboxHarness(settings)
    yield harness
    await harness.aclose()


@pytest.fixture
async def env(infra: InfraEndpoints, mongo_db: AsyncDatabase[Document]) -> AsyncIterator[Env]:
    port = free_port()
    names = TopicNames(prefix=f"t{uuid.uuid4().hex[:10]}.", tiers=TEST_TIERS)
    plan = names.plan(partitions=2, platforms=[Platform.TIKTOK])
    await provision_topics(infra.kafka_bootstrap, plan)
    hook = f"http://127.0.0.1:{port}/webhooks/tiktok"
    try:
        with sandbox_server(hook) as url:
            async with httpx.AsyncClient(timeout=30) as http:
                built = Sandbox(url, http)
                await built.admin(
                    "POST", "/tiktok/verified_prefixes", json={"prefix": built.verified_prefix}
                )
                demo = (await built.admin("GET", "/accounts"))["demo"]
                tokens = SandboxTokens(built, {"i1": demo["tiktok_open_id"]})
                yield Env(
                    infra.kafka_bootstrap, infra.mongo_uri, names, mongo_db, built, tokens, port
                )
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([t.name for t in plan])
        finally:
            await admin.close()
