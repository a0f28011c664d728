"""Composition root of publisher-tiktok.

`create_app` builds every adapter; nothing else wires things.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from herald.infra import Infra
from herald.mongo import Document
from herald.service import add_operational_routes
from publisher_tiktok.settings import Settings

SERVICE = "publisher-tiktok"


def create_app(
    settings: Settings,
    *,
    broker: KafkaBroker | None = None,
    mongo: AsyncMongoClient[Document] | None = None,
) -> FastAPI:
    infra = Infra.build(
        kafka=settings.kafka,
        mongo=settings.mongo,
        client_id=f"herald-{SERVICE}",
        broker=broker,
        mongo_client=mongo,
    )
    registry = CollectorRegistry()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await infra.start()
        try:
            yield
        finally:
            await infra.stop()

    app = FastAPI(title="Herald publisher-tiktok", version="0.1.0", lifespan=lifespan)
    add_operational_routes(app, service=SERVICE, checks=infra.checks(), registry=registry)
    return app
