"""Composition root of platform-sandbox. It keeps its state in memory and depends on nothing."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from herald.service import add_operational_routes
from platform_sandbox.settings import Settings

SERVICE = "platform-sandbox"


def create_app(settings: Settings) -> FastAPI:
    del settings  # every limit and lifetime will live here as the platform APIs arrive
    app = FastAPI(title="Herald platform sandbox", version="0.1.0")
    add_operational_routes(app, service=SERVICE, checks={}, registry=CollectorRegistry())
    return app
