"""Fixtures: Meta's Cloud API schemas (`openapi/`, see its README), and for connected tests the
sandbox over real HTTP and an isolated publisher environment (`publisher_whatsapp.connected`)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no stubs; types-PyYAML is not installed
from aiokafka.admin import AIOKafkaAdminClient
from pymongo.asynchronous.database import AsyncDatabase

from herald.kafka import provision_topics
from herald.mongo import Document
from herald.topics import Platform, TopicNames
from herald_localstack.pytest_plugin import InfraEndpoints
from publisher_whatsapp.connected import TEST_TIERS, Env, Sandbox, sandbox_server
from publisher_whatsapp.testing import CloudApiContract

SCHEMAS = Path(__file__).parent / "openapi" / "cloud_api_v23.yaml"
KEPT_MESSAGES = frozenset(
    {"TextMessage", "ImageMessage", "VideoMessage", "DocumentMessage", "AudioMessage"}
    | {"TemplateMessage"}
)
INDEX = "^[0-9]$"  # the description's "Position index of the button (0-9)"


def verbatim() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SCHEMAS.read_text())
    return loaded


def adjusted(document: dict[str, Any]) -> dict[str, Any]:
    """The three changes README.md explains."""
    fixed = copy.deepcopy(document)
    schemas = fixed["components"]["schemas"]
    for schema in schemas.values():
        for member in schema.get("allOf", []):
            if member.pop("additionalProperties", True) is False:
                schema["unevaluatedProperties"] = False
    schemas["TemplateComponent"]["properties"]["index"]["pattern"] = INDEX
    schemas["ButtonComponent"]["allOf"][1]["properties"]["index"]["pattern"] = INDEX
    message = schemas["Message"]
    message["oneOf"] = [r for r in message["oneOf"] if r["$ref"].rsplit("/", 1)[1] in KEPT_MESSAGES]
    mapping = message["discriminator"]["mapping"]
    message["discriminator"]["mapping"] = {
        k: v for k, v in mapping.items() if v.rsplit("/", 1)[1] in KEPT_MESSAGES
    }
    schemas["Change"]["properties"]["value"]["oneOf"] = [
        {"$ref": "#/components/schemas/StatusMessageValue"}
    ]
    return fixed


@pytest.fixture(scope="session")
def cloud_api() -> CloudApiContract:
    return CloudApiContract(adjusted(verbatim()))


@pytest.fixture(scope="session")
def cloud_api_verbatim() -> CloudApiContract:
    return CloudApiContract(verbatim())


@pytest.fixture
async def sandbox(request: pytest.FixtureRequest) -> AsyncIterator[Sandbox]:
    """Parametrize indirectly with a dict of sandbox settings to change them for one test."""
    overrides = getattr(request, "param", {})
    with sandbox_server(**overrides) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            built = Sandbox(url, http)
            await built.load_demo()
            yield built


@pytest.fixture
async def env(
    infra: InfraEndpoints, mongo_db: AsyncDatabase[Document], sandbox: Sandbox
) -> AsyncIterator[Env]:
    names = TopicNames(prefix=f"t{uuid.uuid4().hex[:10]}.", tiers=TEST_TIERS)
    plan = names.plan(partitions=2, platforms=[Platform.WHATSAPP])
    await provision_topics(infra.kafka_bootstrap, plan)
    try:
        yield Env(infra.kafka_bootstrap, infra.mongo_uri, names, mongo_db, sandbox)
    finally:
        admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
        await admin.start()
        try:
            await admin.delete_topics([t.name for t in plan])
        finally:
            await admin.close()
