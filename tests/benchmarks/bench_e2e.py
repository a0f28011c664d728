"""Posts per second from submit to `published`, through the whole system on this machine.

Every service runs as its own process (as `make up` runs them) on the real Kafka and FerretDB, in
a namespace of its own; the sandbox's Facebook Page is connected through OAuth; N text posts are
submitted through the scheduler's API (32 at a time) and the clock stops when the scheduler has
recorded every one as published (its results counter, read from `/metrics`, which costs the
database nothing; polling N posts would load the very store being measured). Then every post is
read back through the API and the sandbox's ledger is counted. The Facebook publisher runs with
`concurrency` consumers (HERALD_BENCH_FB_CONCURRENCY, default 4; the service's default is 1).

    HERALD_BENCH_POSTS=2000 HERALD_BENCH_FB_CONCURRENCY=4 python tests/benchmarks/bench_e2e.py
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import time
import uuid
from collections import Counter

import httpx
from cpu import CpuWatch
from dbtime import print_database_time
from prometheus_client.parser import text_string_to_metric_families

from herald_localstack import demo, services, stack
from herald_localstack.config import StackConfig
from herald_localstack.process import port_taken
from herald_localstack.secrets import StackSecrets
from herald_localstack.system import System

POSTS = int(os.environ.get("HERALD_BENCH_POSTS", "2000"))
CONCURRENCY = 32
FB_CONCURRENCY = os.environ.get("HERALD_BENCH_FB_CONCURRENCY", "4")


def _cfg() -> StackConfig:
    base = StackConfig.from_env()
    for offset in range(700, 5000, 47):
        cfg = dataclasses.replace(
            base,
            run_dir=base.run_dir / f"bench-e2e-{uuid.uuid4().hex[:6]}",
            service_port_offset=offset,
            namespace=f"bench{uuid.uuid4().hex[:8]}",
        )
        if not any(port_taken(services.port(cfg, s)) for s in services.SERVICES):
            return cfg
    msg = "no free range of service ports"
    raise RuntimeError(msg)


async def _submit(scheduler: str, key: str, integration: str, run: str) -> list[str]:
    limit = asyncio.Semaphore(CONCURRENCY)
    headers = {"Authorization": f"Bearer {key}"}

    async def one(client: httpx.AsyncClient, i: int) -> str:
        body = {
            "content": {"text": f"Bench post {i} herald-marker:{run}x{i}"},
            "targets": [{"integration_id": integration, "platform": "facebook"}],
        }
        async with limit:
            response = await client.post(
                f"{scheduler}/v1/posts",
                json=body,
                headers={**headers, "Idempotency-Key": f"{run}-{i}"},
            )
        response.raise_for_status()
        post_id: str = response.json()["post_id"]
        return post_id

    async with httpx.AsyncClient(timeout=60) as client:
        return list(await asyncio.gather(*(one(client, i) for i in range(POSTS))))


def _published_count(scheduler: str) -> float:
    """Targets the scheduler has recorded as published (its results counter): reading it costs
    the database nothing, so watching does not slow what is watched."""
    text = httpx.get(f"{scheduler}/metrics", timeout=30).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "herald_scheduler_results_total"
                and sample.labels.get("effect") == "published"
            ):
                return sample.value
    return 0.0


def _wait_published(scheduler: str, timeout_s: float) -> float:
    deadline = time.monotonic() + timeout_s
    while _published_count(scheduler) < POSTS:
        if time.monotonic() > deadline:
            msg = f"{POSTS - _published_count(scheduler):.0f} posts not published in {timeout_s}s"
            raise RuntimeError(msg)
        time.sleep(0.2)
    return time.perf_counter()


async def _statuses(scheduler: str, key: str, post_ids: list[str]) -> Counter[str]:
    """Every post's status as the API shows it (read after the clock stopped)."""
    limit = asyncio.Semaphore(CONCURRENCY)
    headers = {"Authorization": f"Bearer {key}"}

    async def one(client: httpx.AsyncClient, post_id: str) -> str:
        async with limit:
            response = await client.get(f"{scheduler}/v1/posts/{post_id}", headers=headers)
        response.raise_for_status()
        status: str = response.json()["status"]
        return status

    async with httpx.AsyncClient(timeout=120) as client:
        return Counter(await asyncio.gather(*(one(client, p) for p in post_ids)))


def _metrics(system: System) -> dict[str, str]:
    found = {}
    for service in (s.name for s in services.SERVICES):
        with contextlib.suppress(httpx.HTTPError):
            found[service] = httpx.get(f"{system.url(service)}/metrics", timeout=10).text
    return found


def main() -> None:
    with stack.shared_infra(StackConfig.from_env()):  # a running stack is reused
        _run()


def _run() -> None:
    cfg = _cfg()
    stack.provision(cfg)
    system = System(cfg)
    try:
        for service in services.SERVICES:
            extra = {f"{service.env_prefix}CONCURRENCY": FB_CONCURRENCY}
            system.start(
                service.name, extra_env=extra if service.name == "publisher-facebook" else None
            )
        keys = StackSecrets.load_or_create(cfg.run_dir)
        auth, scheduler = system.url("auth-service"), system.url("scheduler")
        with httpx.Client(timeout=30) as http:
            made = demo.ensure_business(
                http, cfg.run_dir / "demo.json", auth, keys.admin_token, lambda _: None
            )
            page = demo.connect(http, auth, made.api_key, "facebook")
        run = uuid.uuid4().hex[:8]
        cpu = CpuWatch()
        cpu.start()
        started = time.perf_counter()
        post_ids = asyncio.run(_submit(scheduler, made.api_key, page, run))
        submitted = time.perf_counter()
        finished = _wait_published(scheduler, timeout_s=1800)
        cpu.stop()
        statuses = asyncio.run(_statuses(scheduler, made.api_key, post_ids))
        ledger = httpx.get(
            f"{system.url('platform-sandbox')}/_sandbox/ledger",
            params={"platform": "facebook"},
            timeout=60,
        ).json()
        visible = sum(1 for e in ledger["entries"] if str(e.get("marker", "")).startswith(run))
        total = finished - started
        accepting = submitted - started
        print(f"bench_e2e: {POSTS} Facebook text posts, {os.cpu_count()} cores, one process each")
        print(f"  publisher-facebook concurrency {FB_CONCURRENCY}")
        print(f"  submitted in {accepting:6.1f} s  ({POSTS / accepting:7.1f} posts/s accepted)")
        print(f"  published in {total:6.1f} s  ({POSTS / total:7.1f} posts/s submit-to-published)")
        print(f"  visible publishes on the sandbox: {visible} (expected {POSTS})")
        print(f"  statuses read back through the API: {dict(statuses)}")
        cpu.print()
        print_database_time(_metrics(system), top=int(os.environ.get("HERALD_BENCH_DB_TOP", "12")))
    finally:
        system.stop_all()


if __name__ == "__main__":
    main()
