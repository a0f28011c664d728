"""For connected tests: the platform sandbox under uvicorn on a loopback port (real HTTP, in a
thread with its own event loop), a token source that mints Page tokens from it and can refresh
them, and the publisher's settings pointed at it with isolated topics and short delay tiers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from herald.content import FacebookOptions, PostContent
from herald.events import PostRequested
from herald.graph import GraphSettings
from herald.http import HttpClientSettings
from herald.insights import InsightsSettings
from herald.mongo import Document
from herald.runtime.ports import Credentials
from herald.runtime.settings import RetrySettings
from herald.settings import KafkaSettings, MongoSettings
from herald.topics import Platform, TopicNames
from platform_sandbox.app import create_app as create_sandbox
from platform_sandbox.settings import Settings as SandboxSettings
from publisher_facebook.app import create_app
from publisher_facebook.settings import Settings

TEST_TIERS = {"1s": 1, "3s": 3}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Sandbox:
    """The sandbox under uvicorn in a thread, and a client for its admin API."""

    url: str
    http: httpx.AsyncClient
    page_id: str = ""

    async def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, f"{self.url}/_sandbox{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    async def fault(self, **rule: Any) -> None:
        await self.admin("POST", "/faults", json={"platform": "facebook", **rule})

    async def ledger(self, **query: Any) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = (await self.admin("GET", "/ledger", params=query))[
            "entries"
        ]
        return entries

    def media(self, name: str) -> str:
        return f"{self.url}/_sandbox/media/{name}"


@contextmanager
def sandbox_server(**overrides: Any) -> Iterator[str]:
    """Run the sandbox (settings `overrides` on top of fast test defaults); yields its URL."""
    port = free_port()
    values: dict[str, Any] = {
        "http": {"port": port},
        "webhooks": {"auto_deliver": False},
        "facebook": {"video_processing_s": 1.0},
        "instagram": {"video_processing_s": 1.0},
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


@dataclass
class SandboxTokens:
    """A `TokenSource` minting Page tokens from the sandbox; `refresh` mints a new one."""

    sandbox: Sandbox
    current: str | None = None
    refreshes: int = 0
    minted: list[str] = field(default_factory=list)

    async def get(self, integration_id: str, business_id: str) -> Credentials:
        if self.current is None:
            await self._mint()
        assert self.current is not None
        return self._credentials()

    async def refresh(self, integration_id: str, business_id: str) -> Credentials:
        self.refreshes += 1
        await self._mint()
        return self._credentials()

    async def expire(self) -> None:
        await self.sandbox.admin("POST", "/tokens/expire", json={"token": self.current})

    async def _mint(self) -> None:
        body = {"kind": "page", "subject": self.sandbox.page_id}
        self.current = (await self.sandbox.admin("POST", "/tokens", json=body))["access_token"]
        self.minted.append(self.current)

    def _credentials(self) -> Credentials:
        assert self.current is not None
        page = self.sandbox.page_id
        return Credentials(self.current, page, {"page_id": page})


@dataclass
class Env:
    kafka_bootstrap: str
    mongo_uri: str
    names: TopicNames
    db: AsyncDatabase[Document]
    sandbox: Sandbox
    tokens: SandboxTokens

    def settings(self, **overrides: Any) -> Settings:
        base = self.sandbox.url
        values: dict[str, Any] = {
            "database": self.db.name,
            "kafka": KafkaSettings(bootstrap_servers=self.kafka_bootstrap, graceful_timeout_s=1.0),
            "mongo": MongoSettings(uri=self.mongo_uri),
            "retry": RetrySettings(max_attempts=4, backoff_s=[1.0, 1.0, 1.0], jitter=0.0),
            "graph": GraphSettings(
                base_url=f"{base}/graph.facebook.com",
                video_base_url=f"{base}/graph-video.facebook.com",
                http=HttpClientSettings(read_timeout_s=1.5),
            ),
            "insights": InsightsSettings(enabled=False),
            "lease_s": 5.0,
            "busy_retry_s": 1.0,
            "video_poll_s": 1.0,
            "topic_prefix": self.names.prefix,
        }
        values.update(overrides)
        return Settings.model_validate(values)

    def app(self, **overrides: Any) -> FastAPI:
        return create_app(self.settings(**overrides), tokens=self.tokens, names=self.names)

    @property
    def requested(self) -> str:
        return self.names.requested(Platform.FACEBOOK)


def facebook_post(target_id: str, **content: Any) -> PostRequested:
    """A request whose text carries the sandbox ledger's marker for `target_id`."""
    now = datetime.now(UTC)
    text = content.pop("text", "Fresh from the oven")
    return PostRequested(
        post_id=f"post-{target_id}",
        target_id=target_id,
        business_id="b1",
        integration_id="i1",
        platform=Platform.FACEBOOK,
        content=PostContent.model_validate(
            {"text": f"{text} herald-marker:{target_id}", **content}
        ),
        options=FacebookOptions(video_title="Tour"),
        due_at=now,
        requested_at=now,
    )
