"""`GET|POST <webhook.path>` (default `/webhooks/whatsapp`): transport only;
`publisher_whatsapp.webhooks` decides. Refusals carry no detail (security-reliability.md §3.3)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel

from publisher_whatsapp.ports import ContactFlags, StatusSink, StatusStore, WebhookObserver
from publisher_whatsapp.settings import Settings, WebhookSettings
from publisher_whatsapp.webhooks import StatusReceiver, WebhookNotHandled, WebhookRejected

log = structlog.get_logger(__name__)


class Handled(BaseModel):
    """Statuses of the delivery, counted by what was done with each."""

    handled: dict[str, int]


class Refused(BaseModel):
    error: Literal["rejected", "try again"]


_TEXT = {"text/plain": {"schema": {"type": "string"}}}
HANDSHAKE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The challenge, echoed (Meta's verification request)", "content": _TEXT},
    403: {"description": "Not a subscription, or another verify token", "content": _TEXT},
}
DELIVERY_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Refused, "description": "Not a WhatsApp webhook payload"},
    401: {"model": Refused, "description": "No or a wrong X-Hub-Signature-256"},
    403: {"model": Refused, "description": "A phone number Herald does not publish from"},
    413: {"model": Refused, "description": "Larger than webhook.max_body_bytes"},
    503: {"model": Refused, "description": "A status Herald cannot place yet: Meta retries"},
}


def route(
    settings: Settings,
    *,
    store: StatusStore,
    sink: StatusSink,
    flags: ContactFlags,
    observer: WebhookObserver,
) -> APIRouter:
    """The status webhook, its receiver checking the app secrets (current and previous)."""
    found = StatusReceiver(
        store=store,
        sink=sink,
        flags=flags,
        observer=observer,
        secrets=settings.webhook_secrets(),
        verify_token=settings.webhook.verify_token.get_secret_value(),
        grace_s=settings.webhook.unknown_message_grace_s,
    )
    if not found.secrets:
        log.warning("whatsapp.webhook_unsigned", detail="no app secret: every delivery refused")
    return router(found, settings.webhook)


def router(receiver: StatusReceiver, webhook: WebhookSettings) -> APIRouter:
    path, max_body_bytes = webhook.path, webhook.max_body_bytes
    api = APIRouter(tags=["webhooks"])

    @api.get(path, response_class=PlainTextResponse, responses=HANDSHAKE_RESPONSES)
    async def whatsapp_handshake(
        mode: Annotated[str | None, Query(alias="hub.mode")] = None,
        token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
        challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
    ) -> Response:
        try:
            return PlainTextResponse(receiver.handshake(mode, token, challenge))
        except WebhookRejected as exc:
            return PlainTextResponse("forbidden", status_code=exc.status)

    @api.post(path, response_model=Handled, responses=DELIVERY_RESPONSES)
    async def whatsapp_webhook(
        request: Request,
        signature: Annotated[str | None, Header(alias="X-Hub-Signature-256")] = None,
    ) -> JSONResponse:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body_bytes:
            receiver.observer.rejected("too_large")
            return JSONResponse({"error": "rejected"}, status_code=413)
        body = await request.body()
        if len(body) > max_body_bytes:
            receiver.observer.rejected("too_large")
            return JSONResponse({"error": "rejected"}, status_code=413)
        try:
            handled = await receiver.receive(body, signature)
        except WebhookRejected as exc:
            return JSONResponse({"error": "rejected"}, status_code=exc.status)
        except WebhookNotHandled:
            return JSONResponse({"error": "try again"}, status_code=503)
        return JSONResponse({"handled": handled})

    return api
