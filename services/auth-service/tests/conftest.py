"""Fixtures of auth-service's tests.

- `sandbox`: the platform sandbox under uvicorn on a loopback port (real HTTP), once per
  session, approving authorize pages at once and requiring `appsecret_proof` on Graph calls;
  reset after a test that moved its clock, so later tests see the platforms' time as wall time.
- `make_components` / `make_app`: auth-service wired to FerretDB (a fresh database per test), the
  sandbox (through a `Recorder` that counts every outbound call) and a `RecordingEmitter`.
- `world`: a business with a key, plus helpers that walk a browser through an OAuth flow.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from auth_service.adapters.mongo import ensure_indexes
from auth_service.app import create_app, mount
from auth_service.composition import Components, build_components
from auth_service.handlers.keys import create_api_key, create_business
from auth_service.testing import (
    Live,
    Recorder,
    Sandbox,
    World,
    WorldFactory,
    auth_settings,
)
from herald.mongo import Document
from herald.testing import RecordingEmitter
from herald.testkit.servers import ServerThread, free_port
from herald_localstack.pytest_plugin import InfraEndpoints
from platform_sandbox.app import create_app as create_sandbox
from platform_sandbox.settings import Settings as SandboxSettings


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[ServerThread]:
    settings = SandboxSettings.model_validate(
        {"oauth": {"auto_approve": True}, "meta": {"require_appsecret_proof": True}}
    )
    server = ServerThread(create_sandbox(settings)).start()
    yield server
    server.stop()


@pytest.fixture
async def sandbox(sandbox_server: ServerThread) -> AsyncIterator[Sandbox]:
    """The session's sandbox; a test that moved its clock leaves it reset. The sandbox signs
    TikTok webhooks with its clock, and auth-service refuses a `t` beyond its tolerance of the
    wall clock, so a clock left 601 s ahead (test_embedded_signup) broke later webhook tests."""
    async with httpx.AsyncClient(timeout=30) as http:
        yield Sandbox(sandbox_server.url, http)
        clock = await http.get(f"{sandbox_server.url}/_sandbox/clock")
        if clock.raise_for_status().json()["offset_s"] != 0:
            (await http.post(f"{sandbox_server.url}/_sandbox/reset")).raise_for_status()


ComponentsFactory = Callable[..., Components]


@dataclass
class Built:
    built_components: list[Components] = field(default_factory=list)


@pytest.fixture
async def make_components(
    infra: InfraEndpoints,
    mongo_db: AsyncDatabase[Document],
    mongo_client: AsyncMongoClient[Document],
    sandbox: Sandbox,
) -> AsyncIterator[ComponentsFactory]:
    """auth-service's handlers and adapters on this test's database (one per call: a replica)."""
    built = Built()
    await ensure_indexes(mongo_db)

    def make(**overrides: Any) -> Components:
        settings = auth_settings(
            infra.kafka_bootstrap, infra.mongo_uri, mongo_db.name, sandbox.url, **overrides
        )
        components = build_components(
            settings,
            mongo=mongo_client,
            http_client=httpx.AsyncClient(transport=Recorder(), timeout=30),
            emitter=RecordingEmitter(),
        )
        built.built_components.append(components)
        return components

    yield make
    for components in built.built_components:
        await components.http.aclose()


@pytest.fixture
async def make_world(
    make_components: ComponentsFactory, sandbox: Sandbox
) -> AsyncIterator[WorldFactory]:
    clients: list[httpx.AsyncClient] = []
    apps: dict[int, FastAPI] = {}  # one app per components: its registry takes one app's metrics

    async def make(components: Components | None = None, **overrides: Any) -> World:
        rt = components or make_components(**overrides)
        if id(rt) not in apps:
            apps[id(rt)] = mount(rt)
        app = apps[id(rt)]
        # The browser's address is the public one, so the cookies the start link sets (Secure
        # over https) come back to the callback as they would in a browser.
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=rt.settings.public_base_url
        )
        clients.append(client)
        business = await create_business(rt.deps, "Bakery")
        issued = await create_api_key(rt.deps, business.id, "test")
        return World(rt, app, client, sandbox, business.id, issued.key)

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def live(
    infra: InfraEndpoints, mongo_db: AsyncDatabase[Document], sandbox: Sandbox
) -> AsyncIterator[Live]:
    port = free_port()
    settings = auth_settings(
        infra.kafka_bootstrap,
        infra.mongo_uri,
        mongo_db.name,
        sandbox.url,
        public_base_url=f"http://127.0.0.1:{port}",
    )
    server = ServerThread(create_app(settings), port).start()
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield Live(server, client, settings)
    server.stop()
