"""The outbound HTTP client every adapter is given (created in a lifespan, closed there).

Adapters take an `httpx.AsyncClient`, so tests drive them through `httpx.MockTransport`; which
transport carries real traffic is decided here, once, from settings. Every request runs in a client
span and carries the trace context (`herald.tracing.TracingTransport`).
"""

from __future__ import annotations

from typing import Literal

import httpx
from httpx_aiohttp import AiohttpTransport
from pydantic import BaseModel, Field

from herald import __version__
from herald.tracing import TracingTransport


class HttpClientSettings(BaseModel):
    model_config = {"extra": "forbid"}

    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0)
    write_timeout_s: float = Field(default=30.0, gt=0)
    pool_timeout_s: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=100, ge=1)
    max_keepalive: int = Field(default=20, ge=0)
    transport: Literal["httpx", "aiohttp"] = Field(
        default="httpx",
        description="aiohttp keeps the httpx API on aiohttp's connection handling (ADR 0009).",
    )


def new_http_client(
    settings: HttpClientSettings, *, service: str, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    limits = httpx.Limits(
        max_connections=settings.max_connections,
        max_keepalive_connections=settings.max_keepalive,
    )
    if transport is None and settings.transport == "aiohttp":
        transport = AiohttpTransport(limits=limits)
    elif transport is None:  # what httpx would make, made here to be wrapped
        transport = httpx.AsyncHTTPTransport(limits=limits)
    return httpx.AsyncClient(
        timeout=httpx.Timeout(
            connect=settings.connect_timeout_s,
            read=settings.read_timeout_s,
            write=settings.write_timeout_s,
            pool=settings.pool_timeout_s,
        ),
        limits=limits,
        headers={"User-Agent": f"herald-{service}/{__version__}"},
        transport=TracingTransport(transport),
        follow_redirects=False,
    )
