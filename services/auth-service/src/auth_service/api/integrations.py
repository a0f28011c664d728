"""`/v1/integrations`: a business's connected accounts with status and health, refresh one,
disconnect one. Another business's ids answer 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from auth_service.api.common import DepsDep, error_responses, require_key
from auth_service.api.schemas import Disconnected, IntegrationHealth, IntegrationList
from auth_service.api.strict import StrictRoute
from auth_service.api.views import health
from auth_service.domain import ApiKeyRecord
from auth_service.handlers.lifecycle import disconnect, owned
from auth_service.handlers.tokens import force_refresh
from herald.events import IntegrationStatus
from herald.topics import Platform

router = APIRouter(prefix="/v1/integrations", tags=["integrations"], route_class=StrictRoute)
Reader = Annotated[ApiKeyRecord, Depends(require_key("integrations:read"))]
Writer = Annotated[ApiKeyRecord, Depends(require_key("integrations:write"))]


@router.get("", response_model=IntegrationList, responses=error_responses(401, 403))
async def list_integrations(
    deps: DepsDep,
    key: Reader,
    platform: Annotated[Platform | None, Query()] = None,
    status: Annotated[IntegrationStatus | None, Query()] = None,
) -> IntegrationList:
    now = deps.clock.now()
    found = await deps.integrations.for_business(key.business_id, platform)
    views = [health(i, now, deps.policy.margins) for i in found]
    return IntegrationList(integrations=[v for v in views if status is None or v.status == status])


@router.get(
    "/{integration_id}", response_model=IntegrationHealth, responses=error_responses(401, 403, 404)
)
async def get_integration(integration_id: str, deps: DepsDep, key: Reader) -> IntegrationHealth:
    integration = await owned(deps, key.business_id, integration_id)
    return health(integration, deps.clock.now(), deps.policy.margins)


@router.post(
    "/{integration_id}/refresh",
    response_model=IntegrationHealth,
    responses=error_responses(401, 403, 404, 409, 503),
)
async def refresh_integration(integration_id: str, deps: DepsDep, key: Writer) -> IntegrationHealth:
    usable = await force_refresh(deps, key.business_id, integration_id)
    return health(usable.integration, deps.clock.now(), deps.policy.margins)


@router.delete(
    "/{integration_id}", response_model=Disconnected, responses=error_responses(401, 403, 404, 503)
)
async def disconnect_integration(integration_id: str, deps: DepsDep, key: Writer) -> Disconnected:
    integration, revoked = await disconnect(deps, key.business_id, integration_id)
    return Disconnected(
        integration=health(integration, deps.clock.now(), deps.policy.margins),
        provider_revoked=revoked,
    )
