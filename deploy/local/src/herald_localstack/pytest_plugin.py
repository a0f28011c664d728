"""pytest fixtures that give tests real infrastructure, loaded by the root `conftest.py`.

`HERALD_TEST_INFRA` chooses where it comes from:
- `local` (default): the deploy/local stack. A running stack is reused; otherwise the fixture
  starts Kafka and FerretDB for the session and stops, at the end, only what it started.
- `external`: addresses from `HERALD_TEST_KAFKA_BOOTSTRAP` and `HERALD_TEST_MONGO_URI`.
- `testcontainers`: Kafka and real MongoDB from testcontainers, where a Docker engine exists.
  Our CI has no Docker engine, so this path is not exercised there.
Nothing is skipped when infrastructure is missing: the fixture starts it or the test fails.
A test about to reach its timeout writes its asyncio tasks' await chains first
(`herald_localstack.hangdump`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import uuid
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from herald.kafka import provision_topics
from herald.mongo import Document
from herald.topics import TopicSpec, provisioning_plan
from herald_localstack import stack
from herald_localstack.config import StackConfig
from herald_localstack.errors import StackError

pytest_plugins = ["herald_localstack.hangdump"]


@dataclass(frozen=True)
class InfraEndpoints:
    kafka_bootstrap: str
    mongo_uri: str


def _local() -> Iterator[InfraEndpoints]:
    cfg = StackConfig.from_env()
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    with contextlib.ExitStack() as stack_use:
        try:
            stack_use.enter_context(stack.shared_infra(cfg))
        except StackError as exc:
            pytest.fail(f"could not start the local stack: {exc}", pytrace=False)
        yield InfraEndpoints(cfg.kafka_bootstrap, cfg.mongo_uri)


def _external() -> Iterator[InfraEndpoints]:
    kafka = os.environ.get("HERALD_TEST_KAFKA_BOOTSTRAP")
    mongo = os.environ.get("HERALD_TEST_MONGO_URI")
    if not kafka or not mongo:
        pytest.fail(
            "HERALD_TEST_INFRA=external needs HERALD_TEST_KAFKA_BOOTSTRAP "
            "and HERALD_TEST_MONGO_URI",
            pytrace=False,
        )
    asyncio.run(provision_topics(kafka, provisioning_plan()))
    yield InfraEndpoints(kafka, mongo)


def _testcontainers() -> Iterator[InfraEndpoints]:
    # Imported here: only machines with a Docker engine take this path.
    from testcontainers.kafka import KafkaContainer  # noqa: PLC0415
    from testcontainers.mongodb import MongoDbContainer  # noqa: PLC0415

    with KafkaContainer().with_kraft() as kafka, MongoDbContainer("mongo:8.0") as mongo:
        bootstrap = kafka.get_bootstrap_server()
        asyncio.run(provision_topics(bootstrap, provisioning_plan()))
        yield InfraEndpoints(bootstrap, mongo.get_connection_url())


@pytest.fixture(scope="session")
def infra() -> Iterator[InfraEndpoints]:
    """Addresses of a real Kafka and a MongoDB-compatible store, running for the session."""
    mode = os.environ.get("HERALD_TEST_INFRA", "local")
    sources = {"local": _local, "external": _external, "testcontainers": _testcontainers}
    if mode not in sources:
        pytest.fail(f"HERALD_TEST_INFRA must be one of {', '.join(sources)}, got {mode!r}")
    yield from sources[mode]()


@pytest.fixture(scope="session")
async def mongo_client(infra: InfraEndpoints) -> AsyncIterator[AsyncMongoClient[Document]]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        infra.mongo_uri, tz_aware=True, uuidRepresentation="standard"
    )
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def mongo_db(
    mongo_client: AsyncMongoClient[Document],
) -> AsyncIterator[AsyncDatabase[Document]]:
    """A database of its own for one test, dropped afterwards."""
    name = f"t{uuid.uuid4().hex[:12]}"
    try:
        yield mongo_client[name]
    finally:
        await mongo_client.drop_database(name)


@pytest.fixture
async def unreachable_mongo() -> AsyncIterator[AsyncMongoClient[Document]]:
    """A client of a MongoDB that is not there (port 9), closed after the test: for unit tests of
    apps that are built but never started, whose readiness must say MongoDB does not answer."""
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        "mongodb://127.0.0.1:9/", serverSelectionTimeoutMS=200
    )
    try:
        yield client
    finally:
        await client.close()
        # PyMongo's async monitor closes a refused socket on OSError but not when close() cancels
        # it mid-connect (pymongo 4.20 pool_shared._async_create_connection): the socket is left
        # for the garbage collector, whose ResourceWarning would fail whichever test runs then.
        # Collected here, at a known time, with that one warning silenced.
        for _ in range(3):
            await asyncio.sleep(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            gc.collect()


NewTopicFactory = Callable[..., Awaitable[str]]


@pytest.fixture
async def new_topic(infra: InfraEndpoints) -> AsyncIterator[NewTopicFactory]:
    """Uniquely named topics for one test (`await new_topic(partitions=2)`), deleted after."""
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    created: list[str] = []

    async def make(partitions: int = 1, prefix: str = "test") -> str:
        name = f"{prefix}.{uuid.uuid4().hex[:12]}"
        await provision_topics(infra.kafka_bootstrap, [TopicSpec(name, partitions)])
        created.append(name)
        return name

    try:
        yield make
    finally:
        if created:
            await admin.delete_topics(created)
        await admin.close()
