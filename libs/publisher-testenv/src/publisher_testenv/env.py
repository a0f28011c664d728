"""What the publishers' connected tests share: a publisher on the real Kafka and FerretDB, under
topics of the test's own with short delay tiers, against the platform sandbox served over HTTP,
with a token source minting from it; and the pytest fixture that opens one per test."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Self

import pytest
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from herald.graph import GraphSettings
from herald.http import HttpClientSettings
from herald.insights import (
    InsightsCollector,
    InsightsReader,
    InsightsSettings,
    MongoSnapshots,
    PublishingSink,
)
from herald.mongo import Document
from herald.runtime.settings import RetrySettings
from herald.settings import KafkaSettings, MongoSettings
from herald.testing import RecordingEmitter
from herald.testkit import isolated_topics
from herald.testkit.servers import free_port
from herald.topics import Platform, TopicNames
from herald_localstack.pytest_plugin import InfraEndpoints
from platform_sandbox.testing.served import SandboxClient, served_sandbox
from platform_sandbox.testing.tokens import Grant, SandboxTokens

TEST_TIERS = {"1s": 1, "3s": 3}


@dataclass
class PublisherEnv(ABC):
    """One test's publisher environment. A publisher's subclass names its platform, the sandbox
    settings its tests run with and the grant its tokens are minted by, and builds its app."""

    PLATFORM: ClassVar[Platform]

    kafka_bootstrap: str
    mongo_uri: str
    names: TopicNames
    db: AsyncDatabase[Document]
    sandbox: SandboxClient
    port: int = 0  # where a test serves the publisher over HTTP (TikTok sends webhooks there)
    tokens: SandboxTokens = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = SandboxTokens(self.sandbox.url, self.grant())

    @classmethod
    @abstractmethod
    def sandbox_settings(cls, port: int) -> dict[str, Any]:
        """The sandbox's settings for this publisher's tests (`port`: the publisher's own)."""

    @abstractmethod
    def grant(self) -> Grant:
        """What the integrations' tokens are minted as."""

    @abstractmethod
    def app(self, **overrides: Any) -> FastAPI:
        """The publisher on this environment (`overrides`: its settings)."""

    async def prepare(self) -> None:  # noqa: B027 - a hook: most publishers need nothing here
        """What the sandbox must be told before a test starts."""

    def common_settings(self, *, lease_s: float) -> dict[str, Any]:
        """What every publisher is set to here: this test's database and topics, the real Kafka
        and FerretDB, four attempts a second apart, a busy target retried after a second."""
        return {
            "database": self.db.name,
            "kafka": KafkaSettings(bootstrap_servers=self.kafka_bootstrap, graceful_timeout_s=1.0),
            "mongo": MongoSettings(uri=self.mongo_uri),
            "retry": RetrySettings(max_attempts=4, backoff_s=[1.0, 1.0, 1.0], jitter=0.0),
            "lease_s": lease_s,
            "busy_retry_s": 1.0,
            "topic_prefix": self.names.prefix,
        }

    @property
    def requested(self) -> str:
        return self.names.requested(self.PLATFORM)

    async def snapshots(self) -> MongoSnapshots:
        """Insights snapshots in this test's database, indexes made (the job makes them when it
        starts; FerretDB takes them)."""
        store = MongoSnapshots(self.db)
        await store.ensure_indexes()
        return store

    def collector(
        self, store: MongoSnapshots, reader: InsightsReader, ages_s: list[int], now: datetime
    ) -> InsightsCollector:
        """An insights collector reading through `reader` with this environment's tokens into
        `store`, its clock stopped at `now`; its events are recorded, not sent."""
        return InsightsCollector(
            store=store,
            reader=reader,
            tokens=self.tokens,
            sink=PublishingSink(store, RecordingEmitter(), topic=self.names.post_insights),
            settings=InsightsSettings(ages_s=ages_s),
            clock=lambda: now,
        )

    @classmethod
    @asynccontextmanager
    async def opened(
        cls, infra: InfraEndpoints, db: AsyncDatabase[Document], **sandbox: Any
    ) -> AsyncIterator[Self]:
        """An environment for the block: topics of its own, deleted after, and a sandbox of its
        own (`sandbox`: settings replacing this publisher's, top-level key by key)."""
        port = free_port()
        names = TopicNames(prefix=f"t{uuid.uuid4().hex[:10]}.", tiers=TEST_TIERS)
        plan = names.plan(partitions=2, platforms=[cls.PLATFORM])
        values = cls.sandbox_settings(port) | sandbox
        async with (
            isolated_topics(infra.kafka_bootstrap, plan),
            served_sandbox(cls.PLATFORM.value, **values) as client,
        ):
            env = cls(infra.kafka_bootstrap, infra.mongo_uri, names, db, client, port)
            await env.prepare()
            yield env


def graph_settings(
    sandbox_url: str, *, read_timeout_s: float = 1.5, **values: Any
) -> GraphSettings:
    """Graph and its video host at the sandbox."""
    return GraphSettings(
        base_url=f"{sandbox_url}/graph.facebook.com",
        video_base_url=f"{sandbox_url}/graph-video.facebook.com",
        http=HttpClientSettings(read_timeout_s=read_timeout_s),
        **values,
    )


def env_fixture(env_class: type[PublisherEnv]) -> object:
    """The `env` fixture of a publisher's connected tests: `env = env_fixture(Env)` in its
    conftest. Parametrize it indirectly with a dict of sandbox settings to change them for one
    test."""

    @pytest.fixture
    async def env(
        request: pytest.FixtureRequest, infra: InfraEndpoints, mongo_db: AsyncDatabase[Document]
    ) -> AsyncIterator[PublisherEnv]:
        async with env_class.opened(infra, mongo_db, **getattr(request, "param", {})) as opened:
            yield opened

    return env
