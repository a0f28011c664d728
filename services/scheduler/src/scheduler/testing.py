"""Test support: fakes of the auth-service ports, request helpers, an isolated environment
(topic prefix, database)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from herald.cloudevents import decode, encode
from herald.events import Event, IntegrationStatus, PostPublished, PostRequested, PostSubmitted
from herald.mongo import Document
from herald.producerauth import HEADER, event_key, sign
from herald.settings import HttpServerSettings, KafkaSettings, LogSettings, MongoSettings
from herald.testing import RecordingEmitter
from herald.testkit import producer, send_event
from herald.topics import PLATFORMS, Platform, TopicNames, TopicSpec
from herald.whatsapp_registry import RegisteredTemplate
from scheduler.app import create_app
from scheduler.errors import Unavailable
from scheduler.handlers.base import Deps
from scheduler.handlers.submit import submit
from scheduler.ports import IntegrationInfo, KeyInfo
from scheduler.settings import CampaignSettings, DispatchSettings, Settings
from scheduler.workers import build_stores

# Well-formed keys (hk_<16 hex>_<43 characters>), so that tests can sign events with them too.
KEY_A = f"hk_00000000000000aa_{'a' * 43}"
KEY_B = f"hk_00000000000000bb_{'b' * 43}"
ALL_SCOPES = frozenset({"posts:read", "posts:write"})


def key_info(key: str, business_id: str, scopes: frozenset[str] = ALL_SCOPES) -> KeyInfo:
    """What auth-service would say of `key`, its event-signing public key included."""
    _, key_id, secret = key.split("_", 2)
    return KeyInfo(business_id, key_id, scopes, event_key(secret))


@dataclass
class FakeKeys:
    """`ApiKeys`: keys → business; `add` issues one, `revoke` makes a key unknown at once."""

    keys: dict[str, KeyInfo] = field(
        default_factory=lambda: {KEY_A: key_info(KEY_A, "biz-a"), KEY_B: key_info(KEY_B, "biz-b")}
    )
    calls: int = 0

    async def introspect(self, key: str) -> KeyInfo | None:
        self.calls += 1
        return self.keys.get(key)

    async def by_id(self, key_id: str) -> KeyInfo | None:
        self.calls += 1
        return next((k for k in self.keys.values() if k.key_id == key_id), None)

    def add(self, key: str, business_id: str, scopes: frozenset[str] = ALL_SCOPES) -> str:
        self.keys[key] = key_info(key, business_id, scopes)
        return key

    def revoke(self, key: str) -> None:
        self.keys.pop(key, None)


@dataclass
class FakeIntegrations:
    """`Integrations`: what auth-service would answer; `down` makes every call `Unavailable`."""

    known: dict[str, IntegrationInfo] = field(default_factory=dict)
    down: bool = False
    calls: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)
    # A WhatsApp integration's registered templates; one not listed here is not checked.
    registered: dict[str, list[RegisteredTemplate]] = field(default_factory=dict)
    template_asks: list[tuple[str, bool]] = field(default_factory=list)

    def add(
        self,
        integration_id: str,
        business_id: str = "biz-a",
        platform: Platform = Platform.FACEBOOK,
        status: IntegrationStatus = IntegrationStatus.ACTIVE,
    ) -> str:
        self.known[integration_id] = IntegrationInfo(
            integration_id, business_id, platform, status, f"account {integration_id}"
        )
        return integration_id

    def forget(self, integration_id: str) -> None:
        self.forgotten.append(integration_id)

    async def get(self, integration_id: str, business_id: str) -> IntegrationInfo | None:
        self.calls.append(integration_id)
        if self.down:
            msg = "auth-service did not answer"
            raise Unavailable(msg)
        info = self.known.get(integration_id)
        return info if info is not None and info.business_id == business_id else None

    async def templates(
        self, integration_id: str, business_id: str, *, fresh: bool = False
    ) -> list[RegisteredTemplate] | None:
        self.template_asks.append((integration_id, fresh))
        info = self.known.get(integration_id)
        if self.down or info is None or info.business_id != business_id:
            return None
        return self.registered.get(integration_id)


def post_body(*integrations: str, text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {
        "content": {"text": text},
        "targets": [{"integration_id": i, "platform": "facebook"} for i in integrations],
        **extra,
    }


def auth(key: str = KEY_A, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **headers}


KafkaHeaders = list[tuple[str, bytes]]


def signed(value: bytes, headers: KafkaHeaders, key: str = KEY_A) -> KafkaHeaders:
    """`headers` and the producer's signature of `value` by `key` (`herald.producerauth`)."""
    return [*headers, (HEADER, sign(key, value).encode())]


def submission_record(
    data: dict[str, Any], *, key: str | None = KEY_A, event_id: str | None = None
) -> tuple[bytes, KafkaHeaders]:
    """A binary-mode `post.submitted` record (value, headers) as a producer makes it, signed
    by `key` (not signed when None)."""
    value, headers = encode(
        PostSubmitted.model_validate(data), source="crm/test", event_id=event_id
    )
    pairs = [(k, v.encode()) for k, v in headers.items()]
    return value, pairs if key is None else signed(value, pairs, key)


def make_settings(
    kafka_bootstrap: str, mongo_uri: str, database: str, topic_prefix: str, **dispatch: Any
) -> Settings:
    """Settings for an in-process scheduler: fast polling, no campaign loop."""
    return Settings(
        http=HttpServerSettings(port=1),
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap, graceful_timeout_s=1.0),
        mongo=MongoSettings(uri=mongo_uri),
        log=LogSettings(),
        database=database,
        topic_prefix=topic_prefix,
        dispatch=DispatchSettings.model_validate({"poll_interval_s": 0.1, **dispatch}),
        campaigns=CampaignSettings(enabled=False),
        metrics_refresh_s=0.5,
    )


@dataclass
class SchedulerEnv:
    kafka_bootstrap: str
    mongo_uri: str
    names: TopicNames
    db: AsyncDatabase[Document]
    keys: FakeKeys = field(default_factory=FakeKeys)
    integrations: FakeIntegrations = field(default_factory=FakeIntegrations)

    def settings(self, **dispatch: Any) -> Settings:
        return make_settings(
            self.kafka_bootstrap, self.mongo_uri, self.db.name, self.names.prefix, **dispatch
        )

    def app(self, **dispatch: Any) -> FastAPI:
        return create_app(
            self.settings(**dispatch), api_keys=self.keys, integrations=self.integrations
        )

    def env(self, **extra: str) -> dict[str, str]:
        """Environment variables for `python -m scheduler` against this environment."""
        return {
            "HERALD_KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "HERALD_MONGO_URI": self.mongo_uri,
            "HERALD_SCHEDULER_DATABASE": self.db.name,
            "HERALD_SCHEDULER_TOPIC_PREFIX": self.names.prefix,
            "HERALD_SCHEDULER_CAMPAIGNS__ENABLED": "false",
            "HERALD_LOG_FORMAT": "json",
            **extra,
        }


def topic_specs(names: TopicNames) -> list[TopicSpec]:
    """The scheduler's topics (`herald.topics`, what it waits for at start), two partitions."""
    return names.for_service("scheduler").plan(2)


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://scheduler")


class FakePublisher:
    """Stands in for the publishers: consumes `post.requested.<platform>` and answers each
    request with `post.published` (or what `answer` returns) on `post.results`."""

    def __init__(
        self,
        bootstrap: str,
        names: TopicNames,
        answer: Callable[[PostRequested], Event | None] | None = None,
    ) -> None:
        self._bootstrap = bootstrap
        self._names = names
        self._answer = answer or published
        self.requests: list[PostRequested] = []
        self.headers: list[dict[str, str]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FakePublisher:
        consumer = AIOKafkaConsumer(
            *(self._names.requested(p) for p in PLATFORMS),
            bootstrap_servers=self._bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        self._task = asyncio.create_task(self._run(consumer))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is None:
            return
        if self._task.done() and not self._task.cancelled() and self._task.exception():
            raise RuntimeError("the fake publisher failed") from self._task.exception()
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self, consumer: AIOKafkaConsumer) -> None:
        async with producer(self._bootstrap) as out:
            try:
                async for record in consumer:
                    headers = {k: v.decode() for k, v in record.headers}
                    request = decode(record.value or b"", headers).event
                    assert isinstance(request, PostRequested)
                    self.requests.append(request)
                    self.headers.append(headers)
                    answer = self._answer(request)
                    if answer is not None:
                        await send_event(out, self._names.post_results, answer, key=request.post_id)
            finally:
                await consumer.stop()


def published(request: PostRequested, **extra: Any) -> PostPublished:
    fields: dict[str, Any] = {
        **request.model_dump(include={"post_id", "target_id", "business_id", "integration_id"}),
        "platform": request.platform,
        "attempt": 1,
        "platform_post_id": f"fb_{request.target_id}",
        "published_at": datetime.now(UTC),
    }
    return PostPublished.model_validate({**fields, **extra})


async def eventually(
    check: Callable[[], Awaitable[Any]], timeout_s: float = 30.0, interval_s: float = 0.1
) -> Any:
    """Poll an async `check` until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            msg = f"condition not met within {timeout_s}s (last: {value!r})"
            raise AssertionError(msg)
        await asyncio.sleep(interval_s)


async def post_status(http: httpx.AsyncClient, post_id: str, wanted: str) -> dict[str, Any] | None:
    body: dict[str, Any] = (await http.get(f"/v1/posts/{post_id}", headers=auth())).json()
    return body if body["status"] == wanted else None


async def seed(
    env: SchedulerEnv, *, posts: int, targets_per_post: int, due_at: Callable[[int], datetime]
) -> list[str]:
    """Submit posts through the real use case (fake auth-service), as another replica's API
    would; returns the target ids. `due_at(n)` gives post n's publish time."""
    stores = build_stores(env.db.client, env.db.name)
    await stores.ensure_indexes()
    ids = [env.integrations.add(f"fb-{i}") for i in range(targets_per_post)]
    deps = Deps(
        posts=stores.posts,
        dispatch=stores.dispatch,
        view=stores.view,
        integrations=env.integrations,
        campaigns=stores.campaigns,
        audiences=stores.audiences,
        recipients=stores.recipients,
        emitter=RecordingEmitter(),
        names=env.names,
    )
    targets: list[str] = []
    for n in range(posts):
        submission = PostSubmitted.model_validate(
            {
                **post_body(*ids, text=f"post {n}"),
                "business_id": "biz-a",
                "idempotency_key": f"seed-{n}",
                "schedule": {"publish_at": due_at(n)},
            }
        )
        result = await submit(deps, submission, source="api")
        targets.extend(result.post.target_ids)
    return targets
