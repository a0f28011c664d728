"""Platform callbacks about grants: Meta deauthorize and data deletion (`signed_request`),
TikTok webhooks (`TikTok-Signature`). Verified before anything is read; a stale one is refused
(401) and a replayed one answers 409 `replayed_delivery` (handlers/webhooks.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Header, Request

from auth_service.api.common import DepsDep, error_responses
from auth_service.api.schemas import DeletionConfirmation, DeletionStatus, WebhookResult
from auth_service.api.strict import StrictRoute
from auth_service.errors import NotFound
from auth_service.handlers.webhooks import meta_data_deletion, meta_deauthorize, tiktok_event

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], route_class=StrictRoute)
# Optional in the schema so that an empty or missing field is a refused signature (401), the
# same answer as a wrong one, rather than a validation error.
SignedRequest = Annotated[str | None, Form(max_length=8192, description="Meta's signed_request")]
_TIKTOK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "client_key": {"type": "string"},
                        "event": {"type": "string"},
                        "create_time": {"type": "integer"},
                        "user_openid": {"type": "string"},
                        "content": {"type": "string"},
                    },
                }
            }
        },
    }
}


@router.post(
    "/meta/deauthorize", response_model=WebhookResult, responses=error_responses(400, 401, 409)
)
async def deauthorize(deps: DepsDep, signed_request: SignedRequest = None) -> WebhookResult:
    return WebhookResult(disconnected=len(await meta_deauthorize(deps, signed_request or "")))


@router.post(
    "/meta/data-deletion",
    response_model=DeletionConfirmation,
    responses=error_responses(400, 401, 409),
)
async def data_deletion(
    deps: DepsDep, signed_request: SignedRequest = None
) -> DeletionConfirmation:
    """Answers what Meta expects: a status URL and a confirmation code."""
    deletion = await meta_data_deletion(deps, signed_request or "")
    return DeletionConfirmation(
        url=deletion.status_url, confirmation_code=deletion.confirmation_code
    )


@router.get(
    "/meta/data-deletion/{confirmation_code}",
    response_model=DeletionStatus,
    responses=error_responses(404),
)
async def deletion_status(confirmation_code: str, deps: DepsDep) -> DeletionStatus:
    found = await deps.deletions.get(confirmation_code)
    if found is None:
        raise NotFound(f"no deletion request {confirmation_code}")
    ids = found.get("integration_ids")
    return DeletionStatus(
        confirmation_code=confirmation_code,
        status=str(found.get("status", "completed")),
        integrations=len(ids) if isinstance(ids, list) else 0,
    )


@router.post(
    "/tiktok",
    response_model=WebhookResult,
    responses=error_responses(400, 401, 409),
    openapi_extra=_TIKTOK_BODY,
)
async def tiktok(
    request: Request,
    deps: DepsDep,
    signature: Annotated[str | None, Header(alias="TikTok-Signature")] = None,
) -> WebhookResult:
    body = await request.body()
    return WebhookResult(disconnected=len(await tiktok_event(deps, body, signature)))
