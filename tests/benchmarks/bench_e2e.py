"""Posts per second from submit to `published`, through the whole system on this machine.

Every service runs as its own process (as `make up` runs them) on the real Kafka and FerretDB, in
a namespace of its own; the sandbox's Facebook Page is connected through OAuth; N text posts are
submitted through the scheduler's API and the clock stops when the last one reads `published`.

    HERALD_BENCH_POSTS=2000 python tests/benchmarks/bench_e2e.py
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from herald_localstack import demo, services, stack
from herald_localstack.config import StackConfig
from herald_localstack.process import port_taken
from herald_localstack.secrets import StackSecrets
from herald_localstack.system import System

POSTS = int(os.environ.get("HERALD_BENCH_POSTS", "2000"))
CONCURRENCY = 32
WAIT_WINDOW = 8


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


async def _wait_published(scheduler: str, key: str, post_ids: list[str], timeout_s: float) -> float:
    """Read the posts in submission order, a few at a time, moving on past the published ones.

    Each post is read about once after it is published, so the observer adds little load to
    the system it measures (reading all pending posts every round would swamp the scheduler).
    """
    headers = {"Authorization": f"Bearer {key}"}
    deadline = time.monotonic() + timeout_s
    position = 0
    async with httpx.AsyncClient(timeout=60) as client:

        async def status(post_id: str) -> str:
            response = await client.get(f"{scheduler}/v1/posts/{post_id}", headers=headers)
            response.raise_for_status()
            value: str = response.json()["status"]
            if value in ("failed", "partially_published"):
                msg = f"post {post_id} ended {value}"
                raise RuntimeError(msg)
            return value

        while position < len(post_ids) and time.monotonic() < deadline:
            window = post_ids[position : position + WAIT_WINDOW]
            statuses = await asyncio.gather(*(status(p) for p in window))
            advanced = 0
            for value in statuses:
                if value != "published":
                    break
                advanced += 1
            position += advanced
            if advanced < len(window):
                await asyncio.sleep(0.25)
    if position < len(post_ids):
        msg = f"{len(post_ids) - position} posts not published within {timeout_s:.0f}s"
        raise RuntimeError(msg)
    return time.perf_counter()


def _database_time(system: System) -> list[tuple[float, int, str]]:
    """(seconds, commands, "service collection command") from every service's `/metrics`."""
    rows: list[tuple[float, int, str]] = []
    for service in (s.name for s in services.SERVICES):
        try:
            text = httpx.get(f"{system.url(service)}/metrics", timeout=10).text
        except httpx.HTTPError:
            continue
        sums: dict[tuple[str, str], float] = {}
        counts: dict[tuple[str, str], float] = {}
        for family in text_string_to_metric_families(text):
            if family.name != "herald_mongo_command_seconds":
                continue
            for sample in family.samples:
                key = (sample.labels.get("collection", "-"), sample.labels.get("command", "-"))
                if sample.name.endswith("_sum"):
                    sums[key] = sample.value
                elif sample.name.endswith("_count"):
                    counts[key] = sample.value
        for key, seconds in sums.items():
            rows.append((seconds, int(counts.get(key, 0)), f"{service} {key[0]} {key[1]}"))
    return sorted(rows, reverse=True)


def main() -> None:
    base = StackConfig.from_env()
    report = stack.ensure_infra(base)  # a running stack is reused; what this starts, it stops
    cfg = _cfg()
    stack.provision(cfg)
    system = System(cfg)
    try:
        system.start_all()
        keys = StackSecrets.load_or_create(cfg.run_dir)
        auth, scheduler = system.url("auth-service"), system.url("scheduler")
        with httpx.Client(timeout=30) as http:
            made = demo.ensure_business(
                http, cfg.run_dir / "demo.json", auth, keys.admin_token, lambda _: None
            )
            page = demo.connect(http, auth, made.api_key, "facebook")
        run = uuid.uuid4().hex[:8]
        started = time.perf_counter()
        post_ids = asyncio.run(_submit(scheduler, made.api_key, page, run))
        submitted = time.perf_counter()
        finished = asyncio.run(_wait_published(scheduler, made.api_key, post_ids, timeout_s=1800))
        ledger = httpx.get(
            f"{system.url('platform-sandbox')}/_sandbox/ledger",
            params={"platform": "facebook"},
            timeout=60,
        ).json()
        visible = sum(1 for e in ledger["entries"] if str(e.get("marker", "")).startswith(run))
        total = finished - started
        accepting = submitted - started
        print(f"bench_e2e: {POSTS} Facebook text posts, {os.cpu_count()} cores, one process each")
        print(f"  submitted in {accepting:6.1f} s  ({POSTS / accepting:7.1f} posts/s accepted)")
        print(f"  published in {total:6.1f} s  ({POSTS / total:7.1f} posts/s submit-to-published)")
        print(f"  visible publishes on the sandbox: {visible} (expected {POSTS})")
        print("  database time by service, collection and command (top 12):")
        for seconds, count, what in _database_time(system)[:12]:
            mean_ms = 1000 * seconds / max(count, 1)
            print(f"    {seconds:8.1f} s  {count:7d} commands  {mean_ms:7.1f} ms  {what}")
    finally:
        system.stop_all()
        if report.started:
            stack.down(base, only=tuple(report.started))


if __name__ == "__main__":
    main()
