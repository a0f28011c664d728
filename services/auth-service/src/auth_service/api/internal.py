"""`/internal/v1`: what other Herald services ask, with their service tokens.

- the scheduler introspects API keys, looks them up by id (to verify signed `post.submitted`)
  and reads integration status;
- publishers (`publisher-*`) read status, get tokens and force refreshes; `publisher-<platform>`
  only for its own platform;
- the scheduler reads a WhatsApp account's registered templates, to check template messages
  at submission (ADR 0018).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from auth_service.api.common import Caller, DepsDep, PeopleDep, error_responses, require_service
from auth_service.api.schemas import (
    IntegrationInfo,
    IntrospectRequest,
    IntrospectResponse,
    KeyLookupRequest,
    KeyLookupResponse,
    TokenResponse,
)
from auth_service.api.strict import StrictRoute
from auth_service.api.views import info, token
from auth_service.domain import Integration
from auth_service.errors import Forbidden
from auth_service.handlers.keys import lookup
from auth_service.handlers.lifecycle import owned
from auth_service.handlers.people import introspect_any
from auth_service.handlers.templates import whatsapp_templates
from auth_service.handlers.tokens import force_refresh, usable_token
from herald.whatsapp_registry import RegisteredTemplate

router = APIRouter(prefix="/internal/v1", tags=["internal"], route_class=StrictRoute)
BusinessId = Annotated[str, Query(min_length=1, max_length=64, description="The business asking.")]
Scheduler = Annotated[Caller, Depends(require_service("scheduler"))]
Reader = Annotated[Caller, Depends(require_service("scheduler", "publisher"))]
Publisher = Annotated[Caller, Depends(require_service("publisher"))]


def _own_platform(caller: Caller, integration: Integration) -> None:
    platform = caller.publisher_platform
    if platform is not None and platform is not integration.platform:
        msg = f"{caller.service} may read only {platform.value} tokens"
        raise Forbidden(msg)


@router.post(
    "/api-keys/introspect",
    response_model=IntrospectResponse,
    response_model_exclude_none=True,
    responses=error_responses(400, 401, 403),
)
async def introspect_key(
    body: IntrospectRequest, deps: DepsDep, people: PeopleDep, _: Scheduler
) -> IntrospectResponse:
    """An API key, or a console session as if it were a key with its role's scopes."""
    record = await introspect_any(deps, people, body.key)
    if record is None:
        return IntrospectResponse(active=False)
    return IntrospectResponse.model_validate(
        {
            "active": True,
            "business_id": record.business_id,
            "key_id": record.key_id,
            "scopes": list(record.scopes),
        }
    )


@router.post(
    "/api-keys/lookup",
    response_model=KeyLookupResponse,
    response_model_exclude_none=True,
    responses=error_responses(400, 401, 403),
)
async def lookup_key(body: KeyLookupRequest, deps: DepsDep, _: Scheduler) -> KeyLookupResponse:
    """An active key's business, scopes and event-signing public key, by its id alone."""
    record = await lookup(deps, body.key_id)
    if record is None:
        return KeyLookupResponse(active=False)
    return KeyLookupResponse.model_validate(
        {
            "active": True,
            "business_id": record.business_id,
            "key_id": record.key_id,
            "scopes": list(record.scopes),
            "event_key": record.event_key,
        }
    )


@router.get(
    "/integrations/{integration_id}",
    response_model=IntegrationInfo,
    responses=error_responses(401, 403, 404),
)
async def get_integration(
    integration_id: str, business_id: BusinessId, deps: DepsDep, _: Reader
) -> IntegrationInfo:
    integration = await owned(deps, business_id, integration_id)
    return info(integration, deps.clock.now(), deps.policy.margins)


@router.get(
    "/integrations/{integration_id}/token",
    response_model=TokenResponse,
    responses=error_responses(401, 403, 404, 409, 503),
)
async def get_token(
    integration_id: str, business_id: BusinessId, deps: DepsDep, caller: Publisher
) -> TokenResponse:
    _own_platform(caller, await owned(deps, business_id, integration_id))
    return token(await usable_token(deps, business_id, integration_id))


@router.post(
    "/integrations/{integration_id}/refresh",
    response_model=TokenResponse,
    responses=error_responses(401, 403, 404, 409, 503),
)
async def refresh_token(
    integration_id: str, business_id: BusinessId, deps: DepsDep, caller: Publisher
) -> TokenResponse:
    _own_platform(caller, await owned(deps, business_id, integration_id))
    return token(await force_refresh(deps, business_id, integration_id))


class TemplateList(BaseModel):
    templates: list[RegisteredTemplate]


@router.get(
    "/integrations/{integration_id}/whatsapp-templates",
    response_model=TemplateList,
    responses=error_responses(401, 403, 404, 409, 503),
)
async def list_whatsapp_templates(
    integration_id: str, business_id: BusinessId, deps: DepsDep, _: Scheduler
) -> TemplateList:
    """The WhatsApp account's message templates as the platform lists them now (name,
    language, status, parameters per component)."""
    return TemplateList(templates=await whatsapp_templates(deps, business_id, integration_id))
