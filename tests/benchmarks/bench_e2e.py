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

from herald_localstack import demo, services, stack
from herald_localstack.config import StackConfig
from herald_localstack.process import port_taken
from herald_localstack.secrets import StackSecrets
from herald_localstack.system import System

POSTS = int(os.environ.get("HERALD_BENCH_POSTS", "2000"))
CONCURRENCY = 32


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
    headers = {"Authorization": f"Bearer {key}"}
    pending = set(post_ids)
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=60) as client:
        while pending and time.monotonic() < deadline:
            done = set()
            for post_id in list(pending)[:200]:
                status = (
                    await client.get(f"{scheduler}/v1/posts/{post_id}", headers=headers)
                ).json()["status"]
                if status == "published":
                    done.add(post_id)
                elif status in ("failed", "partially_published"):
                    msg = f"post {post_id} ended {status}"
                    raise RuntimeError(msg)
            pending -= done
            if pending and not done:
                await asyncio.sleep(0.5)
    if pending:
        msg = f"{len(pending)} posts not published within {timeout_s:.0f}s"
        raise RuntimeError(msg)
    return time.perf_counter()


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
    finally:
        system.stop_all()
        if report.started:
            stack.down(base, only=tuple(report.started))


if __name__ == "__main__":
    main()
