"""The sandbox for tests (this service's and any Herald service's): in-process here; served over
real HTTP, with a client of its admin API, in `platform_sandbox.testing.served`; token sources
minting from it in `platform_sandbox.testing.tokens`.

`SandboxHarness` builds the app and an `httpx.AsyncClient` on it, and gives the sandbox an
outbound client whose loopback "network" is in-process too: the sandbox's own URL reaches the
app itself (so `/_sandbox/media/...` files can be pulled without a server), and a test can mount
webhook receivers at other loopback URLs. Anything else is a connection error, as on a machine
where nothing listens there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx

from platform_sandbox.app import create_app
from platform_sandbox.provisioning import DemoWorld
from platform_sandbox.sandbox import Sandbox
from platform_sandbox.settings import Settings

BASE_URL = "http://127.0.0.1:8120"


class LoopbackRouter(httpx.AsyncBaseTransport):
    """Outbound transport: URLs under a mounted base go to that transport, others fail."""

    def __init__(self) -> None:
        self._mounts: list[tuple[str, httpx.AsyncBaseTransport]] = []

    def mount(self, base_url: str, transport: httpx.AsyncBaseTransport) -> None:
        self._mounts.insert(0, (base_url.rstrip("/"), transport))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        for base, transport in self._mounts:
            if url == base or url.startswith((base + "/", base + "?")):
                return await transport.handle_async_request(request)
        msg = f"nothing listens at {request.url.host}:{request.url.port}"
        raise httpx.ConnectError(msg, request=request)


class WebhookInbox:
    """A loopback webhook receiver that records every delivery and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.requests: list[httpx.Request] = []
        self.status = status

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "GET" and "hub.challenge" in request.url.params:
            return httpx.Response(200, text=request.url.params["hub.challenge"])
        return httpx.Response(self.status)


class SandboxHarness:
    def __init__(self, settings: Settings | None = None, base_url: str = BASE_URL) -> None:
        self.base_url = base_url
        self.outbound = LoopbackRouter()
        self._outbound_client = httpx.AsyncClient(transport=self.outbound)
        self.app = create_app(settings or Settings(), http_client=self._outbound_client)
        transport = httpx.ASGITransport(app=self.app)
        self.outbound.mount(base_url, transport)
        self.client = httpx.AsyncClient(transport=transport, base_url=base_url)

    @property
    def sandbox(self) -> Sandbox:
        sandbox: Sandbox = self.app.state.sandbox
        return sandbox

    @property
    def demo(self) -> DemoWorld:
        if self.sandbox.demo is None:
            msg = "this sandbox was built without demo accounts"
            raise RuntimeError(msg)
        return self.sandbox.demo

    def media_url(self, name: str = "photo.jpg", **params: Any) -> str:
        query = f"?{urlencode(params)}" if params else ""
        return f"{self.base_url}/_sandbox/media/{name}{query}"

    def inbox(self, url: str, status: int = 200) -> WebhookInbox:
        inbox = WebhookInbox(status)
        self.outbound.mount(url, httpx.MockTransport(inbox.handler))
        return inbox

    def serve(self, url: str, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self.outbound.mount(url, httpx.MockTransport(handler))

    async def token(self, kind: str, subject: str, **options: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/_sandbox/tokens", json={"kind": kind, "subject": subject, **options}
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def settle(self) -> None:
        await self.sandbox.tasks.settle(30.0)

    async def aclose(self) -> None:
        await self.client.aclose()
        await self._outbound_client.aclose()
