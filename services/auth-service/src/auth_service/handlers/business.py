"""The signed-in business's own settings: its time zone (the console shows and reads every time
in it). Anyone in the business reads them; only an owner changes them."""

from __future__ import annotations

from auth_service.domain import Business, known_timezone
from auth_service.errors import Forbidden, InvalidField, NotFound
from auth_service.handlers.base import Deps
from auth_service.handlers.people import SignedIn
from auth_service.people import Role


async def business(deps: Deps, business_id: str) -> Business:
    found = await deps.businesses.get(business_id)
    if found is None:  # deleted under a live credential: nothing to show
        raise NotFound(f"no business {business_id}")
    return found


async def set_timezone(deps: Deps, signed: SignedIn, timezone: str) -> Business:
    if signed.role is not Role.OWNER:
        msg = f"only an owner changes the business's time zone; you are a {signed.role.value}"
        raise Forbidden(msg, code="not_an_owner")
    try:
        known_timezone(timezone)  # the body's schema checked it; a handler never trusts that
    except ValueError as exc:
        raise InvalidField(str(exc), field="timezone") from exc
    changed = await deps.businesses.set_timezone(signed.session.business_id, timezone)
    if changed is None:
        raise NotFound(f"no business {signed.session.business_id}")
    return changed
