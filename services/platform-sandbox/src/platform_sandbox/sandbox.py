"""The sandbox's services, built once per app by `create_app` and shared by every route."""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from herald.stopping import cancel_and_wait
from platform_sandbox.clock import Clock
from platform_sandbox.faults import FaultStore
from platform_sandbox.ledger import Ledger
from platform_sandbox.media.fetch import MediaFetcher
from platform_sandbox.provisioning import DemoWorld, seed_demo
from platform_sandbox.settings import Settings
from platform_sandbox.state import SandboxState
from platform_sandbox.usage import UsageMeter
from platform_sandbox.webhooks import WebhookDispatcher


@dataclass
class TaskSet:
    """Work a request starts and does not wait for (pulling media), awaited by `settle`."""

    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def settle(self, timeout_s: float) -> int:
        pending = list(self._tasks)
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)
        return len(self._tasks)

    async def cancel_all(self) -> None:
        await cancel_and_wait(*self._tasks)


class ClientSlot:
    """The outbound httpx client: injected by tests, or opened and closed by the lifespan."""

    def __init__(self, client: httpx.AsyncClient | None) -> None:
        self._client = client
        self.owned = client is None

    def __call__(self) -> httpx.AsyncClient:
        if self._client is None:
            msg = "the outbound HTTP client exists only while the app's lifespan runs"
            raise RuntimeError(msg)
        return self._client

    def open(self, timeout_s: float) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)

    async def close(self) -> None:
        if self.owned and self._client is not None:
            await self._client.aclose()
            self._client = None


@dataclass
class Sandbox:
    settings: Settings
    clock: Clock
    state: SandboxState
    ledger: Ledger
    faults: FaultStore
    usage: UsageMeter
    webhooks: WebhookDispatcher
    fetcher: MediaFetcher
    client: ClientSlot
    tasks: TaskSet
    rng: random.Random
    demo: DemoWorld | None = None

    def base_url(self, headers: Mapping[str, str]) -> str:
        """Where clients reach this sandbox, for URLs it hands out (upload and media URLs)."""
        if self.settings.public_base_url:
            return self.settings.public_base_url.rstrip("/")
        scheme = headers.get("x-forwarded-proto", "http")
        return f"{scheme}://{headers.get('host', '127.0.0.1')}"

    def reset(self) -> None:
        self.state.reset()
        self.ledger.clear()
        self.faults.clear()
        self.webhooks.clear()
        self.clock.reset()
        self.usage = UsageMeter(self.settings.meta)
        self.demo = seed_demo(self.state) if self.settings.seed_demo_accounts else None


def build_sandbox(settings: Settings, client: httpx.AsyncClient | None) -> Sandbox:
    clock = Clock()
    rng = random.Random(settings.faults.seed)  # noqa: S311 - chances of simulated events
    slot = ClientSlot(client)
    secrets = {
        "whatsapp": settings.meta.app_secret.get_secret_value(),
        "tiktok": settings.tiktok.client_secret.get_secret_value(),
    }
    fetch_client: Callable[[], httpx.AsyncClient] = slot
    sandbox = Sandbox(
        settings=settings,
        clock=clock,
        state=SandboxState(),
        ledger=Ledger(settings.ledger.marker_header, re.compile(settings.ledger.marker_pattern)),
        faults=FaultStore(settings.faults.seed),
        usage=UsageMeter(settings.meta),
        webhooks=WebhookDispatcher(slot, clock, settings.webhooks, secrets, rng),
        fetcher=MediaFetcher(fetch_client, timeout_s=settings.media.fetch_timeout_s),
        client=slot,
        tasks=TaskSet(),
        rng=rng,
    )
    if settings.seed_demo_accounts:
        sandbox.demo = seed_demo(sandbox.state)
    return sandbox
