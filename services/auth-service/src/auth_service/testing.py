"""Helpers for tests of auth-service and of the services that call it: a transport that records
every outbound call over real HTTP and a browser walking an OAuth flow through the platform
sandbox (apps under uvicorn come from `herald.testkit.servers`). Imported by tests only."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi import FastAPI

from auth_service.composition import Components
from auth_service.settings import Settings
from herald.testing import RecordingEmitter
from herald.testkit.servers import ServerThread

# Fresh for each test session; never valid anywhere else.
KEY_1 = base64.b64encode(os.urandom(32)).decode()
KEY_2 = base64.b64encode(os.urandom(32)).decode()
SERVICE_TOKENS = {
    "scheduler": "sched-" + "a1b2c3d4" * 5,
    "publisher-tiktok": "pubtt-" + "e5f6a7b8" * 5,
    "publisher-facebook": "pubfb-" + "c9d0e1f2" * 5,
    "publisher-instagram": "pubig-" + "a3b4c5d6" * 5,
    "publisher-whatsapp": "pubwa-" + "e7f8a9b0" * 5,
}
ADMIN_TOKEN = "admin-" + "f1e2d3c4" * 5

TOKEN_PATHS = (
    "/oauth/access_token",  # Graph and api.instagram.com code exchanges, fb_exchange_token
    "/v2/oauth/token/",  # TikTok code and refresh grants
    "/access_token",  # graph.instagram.com ig_exchange_token
    "/refresh_access_token",  # graph.instagram.com ig_refresh_token
)


@dataclass
class Call:
    method: str
    url: str
    request_body: bytes
    status: int
    response_body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    def is_token_call(self) -> bool:
        return self.path.endswith(TOKEN_PATHS)


@dataclass
class Recorder(httpx.AsyncBaseTransport):
    """Sends every request over real HTTP and keeps what went out and what came back."""

    inner: httpx.AsyncBaseTransport = field(default_factory=httpx.AsyncHTTPTransport)
    calls: list[Call] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        response = await self.inner.handle_async_request(request)
        content = await response.aread()
        self.calls.append(
            Call(request.method, str(request.url), body, response.status_code, content)
        )
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=request
        )

    async def aclose(self) -> None:
        await self.inner.aclose()

    def token_calls(self) -> list[Call]:
        return [c for c in self.calls if c.is_token_call()]

    def issued_tokens(self) -> set[str]:
        """Every token value a platform handed out (token, exchange and account answers)."""
        found: set[str] = set()
        for call in self.calls:
            try:
                body = json.loads(call.response_body or b"null")
            except ValueError:
                continue
            _collect(body, found)
        return found


def _collect(value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and key in ("access_token", "refresh_token"):
                found.add(item)
            else:
                _collect(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, found)


def callback_query(location: str) -> dict[str, str]:
    """The query of the redirect the platform sent the browser to."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def through_start_link(browser: httpx.AsyncClient, start_url: str) -> httpx.URL:
    """Open a start link as the person's browser would (`browser` keeps the cookie it sets in
    its jar); returns the platform's authorize URL it redirects to."""
    opened = await browser.get(start_url, follow_redirects=False)
    assert opened.status_code == 302, opened.text
    return httpx.URL(opened.headers["location"])


@dataclass
class Sandbox:
    url: str
    http: httpx.AsyncClient

    async def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, f"{self.url}/_sandbox{path}", **kwargs)
        response.raise_for_status()
        return response.json()


@dataclass
class World:
    """One auth-service (in process, ASGI), its business and key, and a browser."""

    components: Components
    app: FastAPI
    client: httpx.AsyncClient
    sandbox: Sandbox
    business_id: str
    key: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    async def authorize(self, provider: str, **params: str) -> dict[str, str]:
        """connect → the start link (this client is the browser: it keeps the cookie) → the
        platform's authorize page → the callback query it redirects to."""
        query = {k: v for k, v in params.items() if k == "login"}
        started = await self.client.get(
            f"/v1/oauth/{provider}/connect", headers=self.auth, params=query
        )
        assert started.status_code == 200, started.text
        url = await through_start_link(self.client, started.json()["authorize_url"])
        extra = {k: v for k, v in params.items() if k != "login"}
        target = url.copy_merge_params(extra) if extra else url
        page = await self.sandbox.http.get(target, follow_redirects=False)
        assert page.status_code == 302, page.text
        return callback_query(page.headers["location"])

    async def connect(self, provider: str, **params: str) -> list[dict[str, Any]]:
        query = await self.authorize(provider, **params)
        done = await self.client.get(
            f"/v1/oauth/{provider}/callback",
            params=query,
            headers={"Accept": "application/json"},
        )
        assert done.status_code == 200, done.text
        integrations: list[dict[str, Any]] = done.json()["integrations"]
        return integrations


WorldFactory = Callable[..., Awaitable[World]]


def recorder(components: Components) -> Recorder:
    transport = components.http._transport
    assert isinstance(transport, Recorder)
    return transport


def emitted(components: Components) -> RecordingEmitter:
    emitter = components.deps.emitter
    assert isinstance(emitter, RecordingEmitter)
    return emitter


@dataclass
class Live:
    """auth-service as a process would run it: under uvicorn, real Kafka, real FerretDB."""

    server: ServerThread
    client: httpx.AsyncClient
    settings: Settings

    @property
    def url(self) -> str:
        return self.server.url

    async def business_with_key(self) -> tuple[str, str]:
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        made = await self.client.post("/v1/admin/businesses", json={"name": "Live"}, headers=admin)
        business_id = made.json()["business_id"]
        issued = await self.client.post(
            f"/v1/admin/businesses/{business_id}/api-keys", json={"name": "live"}, headers=admin
        )
        return business_id, issued.json()["key"]


def auth_settings(
    kafka_bootstrap: str, mongo_uri: str, database: str, sandbox_url: str, **overrides: Any
) -> Settings:
    """Settings of an auth-service wired to the sandbox, with this session's keys and tokens."""
    values: dict[str, Any] = {
        "kafka": {"bootstrap_servers": kafka_bootstrap},
        "mongo": {"uri": mongo_uri},
        "database": database,
        "public_base_url": "http://auth.test",
        "vault": {"keys": {"k1": KEY_1}, "primary_kid": "k1"},
        "service_tokens": SERVICE_TOKENS,
        "admin_token": ADMIN_TOKEN,
        "hosts": {"sandbox_url": sandbox_url},
        "refresh": {"enabled": False},
    }
    return Settings.model_validate(values | overrides)
