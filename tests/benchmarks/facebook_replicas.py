"""publisher-facebook as several processes of one consumer group, as KEDA runs its pods: the
harness of `bench_replicas.py` (throughput with 1, 2 and 3 replicas) and of
`test_facebook_replicas.py` (one replica killed mid-run).

A namespace of its own on the shared Kafka and FerretDB (the two running services' topics, from
`TopicNames.for_service`, with the stack's 12 partitions; own databases), the sandbox and
auth-service as processes, Pages of the sandbox's demo user connected through the real OAuth
flow, and `post.requested.facebook` events produced straight to the request topic, keyed by
integration as the scheduler keys them: what is measured is the publishers alone. Outcomes are
read back from `post.results` and from the sandbox's ledger of what the platform saw (one entry
per visible post, found by its `herald-marker`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient

from herald.cloudevents import encode
from herald.kafka import provision_topics
from herald.testkit import post_requested
from herald.topics import AUTH_SERVICE, Platform, TopicNames, TopicSpec
from herald_localstack import demo, services
from herald_localstack.config import StackConfig
from herald_localstack.process import port_taken
from herald_localstack.secrets import StackSecrets
from herald_localstack.system import System

SERVICE = "publisher-facebook"
MAX_REPLICAS = 3


def namespaced_config(label: str) -> StackConfig:
    """The shared stack's infra with this run's own folder, service ports and namespace."""
    base = StackConfig.from_env()
    for offset in range(900, 5000, 53):
        cfg = dataclasses.replace(
            base,
            run_dir=base.run_dir / f"{label}-{uuid.uuid4().hex[:6]}",
            service_port_offset=offset,
            namespace=f"{label.replace('-', '')}{uuid.uuid4().hex[:8]}",
        )
        facebook = next(s for s in services.SERVICES if s.name == SERVICE)
        taken = [services.port(cfg, s) for s in services.SERVICES]
        taken += [services.replica_port(cfg, facebook, k) for k in range(MAX_REPLICAS)]
        if not any(port_taken(p) for p in taken):
            return cfg
    msg = "no free range of service ports"
    raise RuntimeError(msg)


def _more_pages(http: httpx.Client, sandbox: str, count: int) -> None:
    """Pages of the sandbox's demo user beyond its one: its OAuth flow then finds them all."""
    user = http.get(f"{sandbox}/_sandbox/accounts").raise_for_status().json()["demo"]["user_id"]
    for n in range(count):
        body = {"name": f"Herald Replica Page {n + 2}", "owner_user_id": user}
        http.post(f"{sandbox}/_sandbox/facebook/pages", json=body).raise_for_status()


@dataclasses.dataclass
class Fleet:
    cfg: StackConfig
    system: System
    business_id: str
    pages: list[str]
    env: dict[str, str]
    replicas: list[str] = dataclasses.field(default_factory=list)  # System keys, in order

    @property
    def names(self) -> TopicNames:
        return TopicNames(prefix=self.cfg.topic_prefix)

    @property
    def group(self) -> str:
        return f"{self.cfg.topic_prefix}herald-{SERVICE}"  # PublisherRuntime.group

    def scale(self, count: int) -> None:
        """Start replicas until `count` run (the first is replica 0, on the service's port)."""
        while len(self.replicas) < count:
            index = len(self.replicas)
            self.replicas.append(self.system.start(SERVICE, replica=index, extra_env=self.env))

    def stop_all_replicas(self) -> None:
        for key in reversed(self.replicas):
            self.system.stop(key)
        self.replicas.clear()

    def kill(self, key: str) -> None:
        """SIGKILL one replica: no leave-group, no commit, its lease left to run out."""
        self.system.kill(key)
        self.replicas.remove(key)

    async def members(self, count: int, timeout_s: float = 60.0) -> float:
        """Wait until the group is stable with `count` members; returns the seconds waited."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.cfg.kafka_bootstrap)
        await admin.start()
        began = time.perf_counter()
        try:
            while time.perf_counter() - began < timeout_s:
                [response] = await admin.describe_consumer_groups([self.group])
                _, _, state, _, _, found = response.groups[0][:6]
                if state == "Stable" and len(found) == count:
                    return time.perf_counter() - began
                await asyncio.sleep(0.5)
        finally:
            await admin.close()
        msg = f"{self.group} did not settle with {count} members in {timeout_s:.0f} s"
        raise RuntimeError(msg)

    async def request(self, run: str, count: int) -> list[str]:
        """`count` Facebook text posts to the Pages round-robin; returns their target ids."""
        producer = AIOKafkaProducer(
            bootstrap_servers=self.cfg.kafka_bootstrap, acks="all", enable_idempotence=True
        )
        await producer.start()
        targets = [f"{run}x{i}" for i in range(count)]
        try:
            sends = []
            for i, target in enumerate(targets):
                page = self.pages[i % len(self.pages)]
                event = post_requested(
                    target, integration_id=page, text=f"Replica post {i} herald-marker:{target}"
                ).model_copy(update={"business_id": self.business_id})
                body, headers = encode(event, source="herald/bench")
                sends.append(
                    await producer.send(
                        self.names.requested(Platform.FACEBOOK),
                        body,
                        key=page.encode(),
                        headers=[(k, v.encode()) for k, v in headers.items()],
                    )
                )
            await asyncio.gather(*sends)
        finally:
            await producer.stop()
        return targets

    async def published(self, targets: list[str], timeout_s: float) -> Counter[str]:
        """Read post.results until every target has a post.published (or the time is up);
        returns how many post.published events each target got."""
        wanted = set(targets)
        seen: Counter[str] = Counter()
        consumer = AIOKafkaConsumer(
            self.names.post_results,
            bootstrap_servers=self.cfg.kafka_bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        deadline = time.perf_counter() + timeout_s
        try:
            while wanted - set(seen) and time.perf_counter() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                for record in (r for records in batch.values() for r in records):
                    headers = {k: v.decode() for k, v in record.headers}
                    subject = headers.get("ce_subject", "")
                    if headers.get("ce_type") == "herald.post.published.v1" and subject in wanted:
                        seen[subject] += 1
        finally:
            await consumer.stop()
        return seen

    def visible(self, run: str) -> Counter[str]:
        """What the platform shows: posts per marker of this run, on the sandbox's ledger."""
        ledger = httpx.get(
            f"{self.system.url('platform-sandbox')}/_sandbox/ledger",
            params={"platform": "facebook"},
            timeout=60,
        ).json()
        markers = (str(e.get("marker") or "") for e in ledger["entries"])
        return Counter(m for m in markers if m.startswith(f"{run}x"))


@contextlib.contextmanager
def fleet(label: str, *, pages: int, env: dict[str, str]) -> Iterator[Fleet]:
    """The sandbox and auth-service running and `pages` Pages connected; no publisher yet."""
    cfg = namespaced_config(label)
    asyncio.run(provision_topics(cfg.kafka_bootstrap, _plan(cfg), timeout_ms=120_000))
    system = System(cfg)
    try:
        system.start("platform-sandbox")
        system.start("auth-service")
        keys = StackSecrets.load_or_create(cfg.run_dir)
        auth = system.url("auth-service")
        with httpx.Client(timeout=30) as http:
            made = demo.ensure_business(
                http, cfg.run_dir / "demo.json", auth, keys.admin_token, lambda _: None
            )
            _more_pages(http, system.url("platform-sandbox"), pages - 1)
            found = demo.connect_all(http, auth, made.api_key, "facebook")
        yield Fleet(cfg, system, made.business_id, found[:pages], env)
    finally:
        system.stop_all()
        asyncio.run(remove_namespace(cfg))


def _plan(cfg: StackConfig) -> list[TopicSpec]:
    """The topics of the two services that run (TopicNames.for_service), with the stack's
    partitions; the leaders of a namespace's every topic take long on a loaded machine."""
    names = TopicNames(prefix=cfg.topic_prefix)
    specs = {
        s.name: s
        for svc in (AUTH_SERVICE, SERVICE)
        for s in names.for_service(svc).plan(cfg.partitions)
    }
    return list(specs.values())


async def remove_namespace(cfg: StackConfig) -> None:
    """The run's topics and databases: runs in every `make test` must not pile them up."""
    admin = AIOKafkaAdminClient(bootstrap_servers=cfg.kafka_bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([t.name for t in _plan(cfg)])
    finally:
        await admin.close()
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(cfg.mongo_uri)
    try:
        for name in await mongo.list_database_names():
            if name.startswith(f"{cfg.namespace}_"):
                await mongo.drop_database(name)
    finally:
        await mongo.close()
