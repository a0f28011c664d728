"""`POST /webhooks/tiktok`: transport only; `publisher_tiktok.webhooks` decides."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from publisher_tiktok.webhooks import WebhookNotHandled, WebhookReceiver, WebhookRejected

PATH = "/webhooks/tiktok"


def router(receiver: WebhookReceiver) -> APIRouter:
    api = APIRouter(tags=["webhooks"])

    @api.post(PATH)
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
