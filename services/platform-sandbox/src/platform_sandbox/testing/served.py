"""The sandbox served over real HTTP, for connected tests and benchmarks, and a client of its admin
API (`/_sandbox/...`) with conveniences for each platform's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from herald.testkit.servers import free_port, serving_in_thread
from platform_sandbox.app import create_app
from platform_sandbox.provisioning import DemoWorld
from platform_sandbox.settings import Settings


@contextmanager
def sandbox_server(**values: Any) -> Iterator[str]:
    """The sandbox under uvicorn on a free loopback port, in a thread with its own event loop;
    yields its URL. `values` are settings; each top-level key replaces the default whole. Hanging
    faults hang 3 s (not 30) unless `faults` says otherwise."""
    port = free_port()
    settings = {"http": {"port": port}, "faults": {"hang_s": 3.0}, **values}
    with serving_in_thread(create_app(Settings.model_validate(settings)), port) as url:
        yield url


@asynccontextmanager
async def served_sandbox(platform: str, **values: Any) -> AsyncIterator[SandboxClient]:
    """`sandbox_server(**values)` and a client of it for `platform`'s tests, demo ids loaded."""
    with sandbox_server(**values) as url:
        async with httpx.AsyncClient(timeout=30) as http:
            client = SandboxClient(url, http, platform)
            await client.load_demo()
            yield client


@dataclass
class SandboxClient:
    """A client of a served sandbox's admin API for one platform's tests: its faults and ledger
    queries concern that platform unless told otherwise; `demo` holds the demo accounts' ids once
    `load_demo` has run."""

    url: str
    http: httpx.AsyncClient
    platform: str
    _demo: DemoWorld | None = None

    async def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, f"{self.url}/_sandbox{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    async def load_demo(self) -> DemoWorld:
        self._demo = DemoWorld(**(await self.admin("GET", "/accounts"))["demo"])
        return self._demo

    @property
    def demo(self) -> DemoWorld:
        if self._demo is None:
            msg = "the demo accounts are not loaded: await load_demo() first"
            raise RuntimeError(msg)
        return self._demo

    async def fault(self, **rule: Any) -> None:
        await self.admin("POST", "/faults", json={"platform": self.platform, **rule})

    async def ledger(self, **query: Any) -> list[dict[str, Any]]:
        params = {"platform": self.platform, **query}
        entries: list[dict[str, Any]] = (await self.admin("GET", "/ledger", params=params))[
            "entries"
        ]
        return entries

    def media(self, name: str, **params: Any) -> str:
        """A synthetic media file the sandbox serves (`bytes=`, `status=`, ... shape it)."""
        return f"{self.url}/_sandbox/media/{name}{_query(params)}"

    # WhatsApp

    async def inbound(self, wa_id: str) -> None:
        """The customer writes: their 24-hour window opens."""
        body = {"phone_number_id": self.demo.phone_number_id, "from": wa_id}
        await self.admin("POST", "/whatsapp/inbound", json=body)

    async def undeliverable(self, wa_id: str, code: int = 131026) -> None:
        await self.admin("POST", "/whatsapp/recipients", json={"wa_id": wa_id, "code": code})

    async def template(self, name: str, **shape: Any) -> None:
        body = {"waba_id": self.demo.waba_id, "name": name, **shape}
        await self.admin("POST", "/whatsapp/templates", json=body)

    async def route_webhooks(self, url: str | None, **route: Any) -> None:
        await self.admin("PUT", "/webhooks/whatsapp", json={"url": url, **route})

    async def webhooks(self) -> dict[str, Any]:
        found: dict[str, Any] = await self.admin("GET", "/webhooks")
        return found

    async def accepted(self) -> list[dict[str, Any]]:
        """The messages the demo number accepted, in order."""
        return await self.ledger(
            platform="whatsapp", kind="message_accepted", account=self.demo.phone_number_id
        )

    # TikTok

    async def creator(self, username: str) -> str:
        """A new TikTok creator; returns their open_id."""
        open_id: str = (await self.admin("POST", "/tiktok/users", json={"username": username}))[
            "open_id"
        ]
        return open_id

    @property
    def verified_prefix(self) -> str:
        """Media under this prefix (the same sandbox, spelled `localhost`) is pulled by TikTok
        once `verify_prefix` has run."""
        return self.url.replace("127.0.0.1", "localhost") + "/_sandbox/media/"

    async def verify_prefix(self) -> None:
        await self.admin("POST", "/tiktok/verified_prefixes", json={"prefix": self.verified_prefix})

    def pulled(self, name: str, **params: Any) -> str:
        """`media(name, **params)` under the verified prefix."""
        return f"{self.verified_prefix}{name}{_query(params)}"


def _query(params: dict[str, Any]) -> str:
    return f"?{urlencode(params)}" if params else ""
