"""`POST /webhooks/tiktok`: transport only; `publisher_tiktok.webhooks` decides."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel, Field

from publisher_tiktok.settings import TikTokSettings
from publisher_tiktok.webhooks import (
    Forwarder,
    WebhookNotHandled,
    WebhookReceiver,
    WebhookRejected,
    WebhookStore,
)

PATH = "/webhooks/tiktok"


class Done(BaseModel):
    result: str = Field(description="What was done: forwarded, recorded, duplicate, ignored.")


class Refused(BaseModel):
    error: Literal["rejected", "try again"]


DELIVERY_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Refused, "description": "Not a TikTok webhook payload"},
    401: {"model": Refused, "description": "No, a wrong or a stale TikTok-Signature"},
    503: {"model": Refused, "description": "Not handled now: TikTok retries"},
}


def receiver(
    settings: TikTokSettings, store: WebhookStore, forwarder: Forwarder, registry: CollectorRegistry
) -> WebhookReceiver:
    """The receiver checking signatures with the current and previous client secrets, counting
    refused deliveries in `herald_webhook_signature_failures_total`."""
    failures = Counter(
        "herald_webhook_signature_failures_total",
        "Webhook deliveries refused for their signature.",
        ["platform"],
        registry=registry,
    )
    return WebhookReceiver(
        store=store,
        forwarder=forwarder,
        secrets=settings.webhook_secrets(),
        tolerance_s=settings.webhook_tolerance_s,
        clock=time.time,
        on_bad_signature=failures.labels(platform="tiktok").inc,
    )


def router(receiver: WebhookReceiver) -> APIRouter:
    api = APIRouter(tags=["webhooks"])

    @api.post(PATH, response_model=Done, responses=DELIVERY_RESPONSES)
    async def tiktok_webhook(
        request: Request,
        signature: Annotated[str | None, Header(alias="TikTok-Signature")] = None,
    ) -> JSONResponse:
        body = await request.body()
        try:
            done = await receiver.receive(body, signature)
        except WebhookRejected as exc:
            return JSONResponse({"error": "rejected"}, status_code=exc.status)
        except WebhookNotHandled:
            return JSONResponse({"error": "try again"}, status_code=503)
        return JSONResponse({"result": done})

    return api
