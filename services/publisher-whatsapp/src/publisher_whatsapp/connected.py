"""For connected tests and the benchmark: the platform sandbox and this publisher, each under
uvicorn on a loopback port (real HTTP, each in a thread with its own event loop), a token source
that mints WhatsApp system-user tokens from the sandbox, and the publisher's settings pointed at
it with isolated topics, short delay tiers and the sandbox's app secret (so its signed webhooks
pass and `appsecret_proof` matches)."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from herald.graph import GraphSettings
from herald.http import HttpClientSettings
from herald.mongo import Document
from herald.runtime.ports import Credentials
from herald.runtime.settings import RetrySettings
from herald.settings import KafkaSettings, MongoSettings
from herald.topics import Platform, TopicNames
from platform_sandbox.app import create_app as create_sandbox
from platform_sandbox.settings import Settings as SandboxSettings
from publisher_whatsapp.app import create_app
from publisher_whatsapp.settings import Settings

TEST_TIERS = {"1s": 1, "3s": 3}
# The sandbox's published default Meta app secret, and a verify token for tests: not credentials.
APP_SECRET = "sandbox-meta-app-secret"  # noqa: S105 - the sandbox's public test secret
VERIFY_TOKEN = "herald-verify"  # noqa: S105 - a test value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(app: FastAPI, port: int) -> Iterator[str]:
    """`app` under uvicorn in a thread (its own event loop); yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            msg = "the server did not start"
            raise RuntimeError(msg)
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=60)


@contextmanager
def sandbox_server(**overrides: Any) -> Iterator[str]:
    """The sandbox (settings `overrides` on top of fast test defaults); yields its URL."""
    port = free_port()
    values: dict[str, Any] = {"http": {"port": port}, "faults": {"hang_s": 3.0}}
    values.update(overrides)
    with serve(create_sandbox(SandboxSettings.model_validate(values)), port) as url:
        yield url


@dataclass
class Sandbox:
    """A client for the sandbox's admin API, with the demo WhatsApp account's ids."""

    url: str
    http: httpx.AsyncClient
    waba_id: str = ""
    phone_number_id: str = ""

    async def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, f"{self.url}/_sandbox{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    async def load_demo(self) -> None:
        demo = (await self.admin("GET", "/accounts"))["demo"]
        self.waba_id, self.phone_number_id = demo["waba_id"], demo["phone_number_id"]

    async def fault(self, **rule: Any) -> None:
        await self.admin("POST", "/faults", json={"platform": "whatsapp", **rule})

    async def inbound(self, wa_id: str) -> None:
        """The customer writes: their 24-hour window opens."""
        body = {"phone_number_id": self.phone_number_id, "from": wa_id}
        await self.admin("POST", "/whatsapp/inbound", json=body)

    async def undeliverable(self, wa_id: str, code: int = 131026) -> None:
        await self.admin("POST", "/whatsapp/recipients", json={"wa_id": wa_id, "code": code})

    async def template(self, name: str, **shape: Any) -> None:
        await self.admin(
            "POST", "/whatsapp/templates", json={"waba_id": self.waba_id, "name": name, **shape}
        )

    async def route_webhooks(self, url: str | None, **route: Any) -> None:
        await self.admin("PUT", "/webhooks/whatsapp", json={"url": url, **route})

    async def webhooks(self) -> dict[str, Any]:
        found: dict[str, Any] = await self.admin("GET", "/webhooks")
        return found

    async def ledger(self, **query: Any) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = (await self.admin("GET", "/ledger", params=query))[
            "entries"
        ]
        return entries

    async def accepted(self) -> list[dict[str, Any]]:
        return await self.ledger(
            platform="whatsapp", kind="message_accepted", account=self.phone_number_id
        )

    async def token(self) -> str:
        body = {"kind": "system_user", "subject": "herald-system-user", "assets": [self.waba_id]}
        minted: dict[str, Any] = await self.admin("POST", "/tokens", json=body)
        return str(minted["access_token"])

    def media(self, name: str, **params: Any) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"{self.url}/_sandbox/media/{name}" + (f"?{query}" if query else "")


def per_second(entries: Sequence[dict[str, Any]]) -> Counter[int]:
    """Accepted messages in each whole second of the sandbox's clock."""
    return Counter(int(float(e["at_unix"])) for e in entries)


@dataclass
class SandboxTokens:
    """A `TokenSource` minting one system-user token for the demo WABA (its own HTTP client per
    call, so it works from whichever event loop the app runs in)."""

    url: str
    waba_id: str
    phone_number_id: str
    current: str | None = None

    async def get(self, integration_id: str, business_id: str) -> Credentials:
        if self.current is None:
            await self.refresh(integration_id, business_id)
        assert self.current is not None
        account = {"phone_number_id": self.phone_number_id, "waba_id": self.waba_id}
        return Credentials(self.current, self.phone_number_id, account)

    async def refresh(self, integration_id: str, business_id: str) -> Credentials:
        body = {"kind": "system_user", "subject": "herald-system-user", "assets": [self.waba_id]}
        async with httpx.AsyncClient(timeout=30) as http:
            minted = (await http.post(f"{self.url}/_sandbox/tokens", json=body)).json()
        self.current = str(minted["access_token"])
        return await self.get(integration_id, business_id)


@dataclass
class Env:
    kafka_bootstrap: str
    mongo_uri: str
    names: TopicNames
    db: AsyncDatabase[Document]
    sandbox: Sandbox

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database": self.db.name,
            "kafka": KafkaSettings(bootstrap_servers=self.kafka_bootstrap, graceful_timeout_s=1.0),
            "mongo": MongoSettings(uri=self.mongo_uri),
            "retry": RetrySettings(max_attempts=4, backoff_s=[1.0, 1.0, 1.0], jitter=0.0),
            "graph": GraphSettings(
                base_url=f"{self.sandbox.url}/graph.facebook.com",
                app_secret=SecretStr(APP_SECRET),
                http=HttpClientSettings(read_timeout_s=5.0),
            ),
            "fetcher": {"allowed_origins": [self.sandbox.url]},
            "webhook": {"verify_token": VERIFY_TOKEN},
            "send": {"retry_backoff_s": [1.0], "pair_backoff_s": 2.0},
            "lease_s": 10.0,
            "busy_retry_s": 1.0,
            "topic_prefix": self.names.prefix,
        }
        values.update(overrides)
        return Settings.model_validate(values)

    def tokens(self) -> SandboxTokens:
        return SandboxTokens(self.sandbox.url, self.sandbox.waba_id, self.sandbox.phone_number_id)

    def app(self, **overrides: Any) -> FastAPI:
        return create_app(self.settings(**overrides), tokens=self.tokens(), names=self.names)

    @contextmanager
    def serving(self, **overrides: Any) -> Iterator[str]:
        """The publisher under uvicorn; yields its base URL."""
        port = free_port()
        with serve(self.app(**overrides), port) as url:
            yield url

    @property
    def requested(self) -> str:
        return self.names.requested(Platform.WHATSAPP)
