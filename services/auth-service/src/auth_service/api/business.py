"""`/v1/business`: the signed-in business's own settings, its time zone (the console shows and
reads every time in it). Read with any key or session; changed by an owner's session only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from auth_service.api.common import DepsDep, error_responses, require_key
from auth_service.api.people import SessionDep
from auth_service.api.people_schemas import BusinessSettings, TimezoneChange
from auth_service.api.strict import StrictRoute
from auth_service.domain import ApiKeyRecord, Business
from auth_service.handlers import business as handlers

router = APIRouter(tags=["business"], route_class=StrictRoute)
Reader = Annotated[ApiKeyRecord, Depends(require_key("integrations:read"))]


def settings_view(business: Business) -> BusinessSettings:
    return BusinessSettings(business_id=business.id, name=business.name, timezone=business.timezone)


@router.get(
    "/v1/business", response_model=BusinessSettings, responses=error_responses(401, 403, 404)
)
async def get_business(deps: DepsDep, key: Reader) -> BusinessSettings:
    return settings_view(await handlers.business(deps, key.business_id))


@router.patch(
    "/v1/business", response_model=BusinessSettings, responses=error_responses(401, 403, 404)
)
async def change_business(
    body: TimezoneChange, deps: DepsDep, signed: SessionDep
) -> BusinessSettings:
    """Set the business's time zone (an owner; others are answered 403). An API key cannot:
    the change is a person's, and the session names who made it."""
    return settings_view(await handlers.set_timezone(deps, signed, body.timezone))
