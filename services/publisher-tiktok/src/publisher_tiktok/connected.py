"""For connected tests: the platform sandbox under uvicorn on a loopback port (real HTTP, in a
thread with its own event loop), the publisher served by uvicorn in the test's loop (so TikTok's
webhooks reach it), a token source minting sandbox tokens per integration, and the publisher's
settings pointed at it with isolated topics and short delay tiers."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from herald.content import PostContent, TikTokOptions
from herald.events import PostRequested
from herald.insights import InsightsSettings
from herald.mongo import Document
from herald.runtime.ports import Credentials
from herald.runtime.settings import RetrySettings
from herald.settings import HttpServerSettings, KafkaSettings, MongoSettings
from herald.topics import Platform, TopicNames
from platform_sandbox.app import create_app as create_sandbox
from platform_sandbox.settings import Settings as SandboxSettings
from publisher_tiktok.app import create_app
from publisher_tiktok.settings import Settings

TEST_TIERS = {"1s": 1, "3s": 3}
SECRET = "sandbox-tiktok-client-secret"  # noqa: S105 - the sandbox's default, not a secret


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Sandbox:
    url: str
    http: httpx.AsyncClient

    async def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, f"{self.url}/_sandbox{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    async def fault(self, **rule: Any) -> None:
        await self.admin("POST", "/faults", json={"platform": "tiktok", **rule})

    async def ledger(self, **query: Any) -> list[dict[str, Any]]:
        params = {"platform": "tiktok", **query}
        entries: list[dict[str, Any]] = (await self.admin("GET", "/ledger", params=params))[
            "entries"
        ]
        return entries

    async def creator(self, username: str) -> str:
        body = {"username": username}
        open_id: str = (await self.admin("POST", "/tiktok/users", json=body))["open_id"]
        return open_id

    def media(self, name: str, size: int) -> str:
        return f"{self.url}/_sandbox/media/{name}?bytes={size}"

    @property
    def verified_prefix(self) -> str:
        """Media under this prefix (the same sandbox, spelled `localhost`) is pulled by TikTok."""
        return self.url.replace("127.0.0.1", "localhost") + "/_sandbox/media/"

    def pulled(self, name: str, size: int) -> str:
        return f"{self.verified_prefix}{name}?bytes={size}"


@contextmanager
def sandbox_server(webhook_url: str, **overrides: Any) -> Iterator[str]:
    """Run the sandbox with fast test timings, sending TikTok webhooks to `webhook_url`."""
    port = free_port()
    values: dict[str, Any] = {
        "http": {"port": port},
        "webhooks": {"tiktok_url": webhook_url, "poll_interval_s": 0.1},
        "tiktok": {"processing_s": 0.5, "moderation_s": 1.0},
        "faults": {"hang_s": 3.0},
    }
    values.update(overrides)
    app = create_sandbox(SandboxSettings.model_validate(values))
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            msg = "the sandbox did not start"
            raise RuntimeError(msg)
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[FastAPI]:
    """Serve `app` (its lifespan: consumers, jobs) over HTTP in this event loop."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 60
    while not server.started:
        if task.done() or time.monotonic() > deadline:
            msg = "the publisher did not start"
            raise RuntimeError(msg)
        await asyncio.sleep(0.05)
    try:
        yield app
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@dataclass
class SandboxTokens:
    """A `TokenSource` minting TikTok tokens for each integration's creator (`accounts`:
    integration id → open_id); `refresh` mints a new one, as auth-service would."""

    sandbox: Sandbox
    accounts: dict[str, str] = field(default_factory=dict)
    current: dict[str, str] = field(default_factory=dict)
    refreshes: dict[str, int] = field(default_factory=dict)

    async def get(self, integration_id: str, business_id: str) -> Credentials:
        if integration_id not in self.current:
            await self._mint(integration_id)
        return self._credentials(integration_id)

    async def refresh(self, integration_id: str, business_id: str) -> Credentials:
        self.refreshes[integration_id] = self.refreshes.get(integration_id, 0) + 1
        await self._mint(integration_id)
        return self._credentials(integration_id)

    async def expire(self, integration_id: str) -> None:
        token = (await self.get(integration_id, "b1")).access_token
        await self.sandbox.admin("POST", "/tokens/expire", json={"token": token})

    async def _mint(self, integration_id: str) -> None:
        body = {"kind": "tt_access", "subject": self.accounts[integration_id]}
        minted = await self.sandbox.admin("POST", "/tokens", json=body)
        self.current[integration_id] = minted["access_token"]

    def _credentials(self, integration_id: str) -> Credentials:
        open_id = self.accounts[integration_id]
        return Credentials(self.current[integration_id], open_id, {"open_id": open_id})


@dataclass
class Env:
    kafka_bootstrap: str
    mongo_uri: str
    names: TopicNames
    db: AsyncDatabase[Document]
    sandbox: Sandbox
    tokens: SandboxTokens
    port: int

    def settings(self, **overrides: Any) -> Settings:
        base = self.sandbox.url
        values: dict[str, Any] = {
            "http": HttpServerSettings(port=self.port),
            "database": self.db.name,
            "kafka": KafkaSettings(bootstrap_servers=self.kafka_bootstrap, graceful_timeout_s=1.0),
            "mongo": MongoSettings(uri=self.mongo_uri),
            "retry": RetrySettings(max_attempts=4, backoff_s=[1.0, 1.0, 1.0], jitter=0.0),
            "tiktok": {
                "base_url": f"{base}/open.tiktokapis.com",
                "client_secret": SECRET,
                "verified_url_prefixes": [self.sandbox.verified_prefix],
                "photo_url_schemes": ["https", "http"],
                "status_poll_s": 1.0,
                "post_id_poll_s": 1.0,
            },
            "fetcher": {"allowed_origins": [base]},
            "insights": InsightsSettings(enabled=False),
            "lease_s": 30.0,
            "busy_retry_s": 1.0,
            "topic_prefix": self.names.prefix,
        }
        values.update(overrides)
        return Settings.model_validate(values)

    def app(self, **overrides: Any) -> FastAPI:
        return create_app(self.settings(**overrides), tokens=self.tokens, names=self.names)

    @property
    def requested(self) -> str:
        return self.names.requested(Platform.TIKTOK)


def tiktok_post(
    target_id: str, *media: str, integration_id: str = "i1", **options: Any
) -> PostRequested:
    """A request whose caption carries the sandbox ledger's marker for `target_id`; `media` are
    URLs, videos by their `.mp4` in the path."""
    now = datetime.now(UTC)
    items = [{"kind": "video" if ".mp4" in url else "image", "url": url} for url in media]
    options.setdefault("privacy_level", "PUBLIC_TO_EVERYONE")
    return PostRequested(
        post_id=f"post-{target_id}",
        target_id=target_id,
        business_id="b1",
        integration_id=integration_id,
        platform=Platform.TIKTOK,
        content=PostContent.model_validate(
            {"text": f"Rye #bread herald-marker:{target_id}", "media": items}
        ),
        options=TikTokOptions.model_validate(options),
        due_at=now,
        requested_at=now,
    )
