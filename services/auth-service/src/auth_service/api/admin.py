"""`/v1/admin`: what `python -m auth_service admin ...` does, for operators with the admin
token: businesses, API keys, vault key rotation, one refresh pass."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from auth_service.api.common import DepsDep, error_responses, require_admin
from auth_service.api.schemas import (
    ApiKeyView,
    BusinessList,
    BusinessView,
    IssuedKey,
    NewApiKey,
    NewBusiness,
    RefreshPassView,
    RotationView,
)
from auth_service.api.strict import StrictRoute
from auth_service.api.views import business_view, key_view
from auth_service.handlers import keys
from auth_service.handlers.maintenance import refresh_pass, rotate_keys

router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin)],
    route_class=StrictRoute,
)


@router.post(
    "/businesses", status_code=201, response_model=BusinessView, responses=error_responses(400, 401)
)
async def create_business(body: NewBusiness, deps: DepsDep) -> BusinessView:
    return business_view(await keys.create_business(deps, body.name, body.timezone), [])


@router.get("/businesses", response_model=BusinessList, responses=error_responses(401))
async def list_businesses(deps: DepsDep) -> BusinessList:
    found = await keys.list_businesses(deps)
    return BusinessList(businesses=[business_view(b, k) for b, k in found])


@router.post(
    "/businesses/{business_id}/api-keys",
    status_code=201,
    response_model=IssuedKey,
    responses=error_responses(400, 401, 404),
)
async def create_api_key(business_id: str, body: NewApiKey, deps: DepsDep) -> IssuedKey:
    scopes = None if body.scopes is None else [str(s) for s in body.scopes]
    issued = await keys.create_api_key(deps, business_id, body.name, scopes)
    return IssuedKey(**key_view(issued.record).model_dump(), key=issued.key)


@router.post(
    "/api-keys/{key_id}/revoke", response_model=ApiKeyView, responses=error_responses(401, 404)
)
async def revoke_api_key(key_id: str, deps: DepsDep) -> ApiKeyView:
    return key_view(await keys.revoke_api_key(deps, key_id))


@router.post("/vault/rotate", response_model=RotationView, responses=error_responses(401))
async def rotate(deps: DepsDep) -> RotationView:
    report = await rotate_keys(deps)
    return RotationView(
        primary_kid=report.primary_kid,
        rewrapped=report.rewrapped,
        busy_retries=report.busy_retries,
        failed=report.failed,
        records_by_kid=report.by_kid,
    )


@router.post("/refresh", response_model=RefreshPassView, responses=error_responses(401))
async def refresh_once(deps: DepsDep) -> RefreshPassView:
    report = await refresh_pass(deps)
    return RefreshPassView(
        refreshed=report.refreshed,
        checked=report.checked,
        expired=report.expired,
        failed=report.failed,
        busy=report.busy,
    )
