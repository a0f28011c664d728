"""WhatsApp Embedded Signup's server side, as Meta's onboarding guide lists it (platform-apis.md
§3.1): the JS SDK's code exchanged without a redirect URI, `debug_token` for what it granted,
`subscribed_apps`, `register` with the two-step PIN, the number's profile. Errors are classified
once, by `graph_json`, and keep Graph's code and subcode for the handler to name the refusal.
"""

from __future__ import annotations

from typing import Any

from auth_service.adapters.graph import MetaApp
from auth_service.ports import BusinessGrant, PhoneNumberProfile

PROFILE_FIELDS = (
    "id,display_phone_number,verified_name,quality_rating,status,platform_type,"
    "whatsapp_business_manager_messaging_limit"
)


class MetaOnboarding:
    def __init__(self, app: MetaApp) -> None:
        self._app = app

    async def exchange(self, code: str) -> BusinessGrant:
        business = await self._app.exchange_code(code, None, None)
        info = await self._app.debug(business.token)
        return BusinessGrant(
            token=business.token,
            expires_at=business.expires_at or self._app.expiry(info.get("expires_at")),
            valid=bool(info.get("is_valid")),
            scopes=tuple(sorted(str(s) for s in info.get("scopes", []))),
            targets=_targets(info),
            user_id=str(info["user_id"]) if info.get("user_id") else None,
        )

    async def numbers(self, waba_id: str, token: str) -> list[str]:
        found = await self._app.paged(f"{waba_id}/phone_numbers", token, "id")
        return [str(n["id"]) for n in found if n.get("id")]

    async def subscribe(self, waba_id: str, token: str) -> None:
        await self._app.call("POST", f"{waba_id}/subscribed_apps", token, {})

    async def profile(self, phone_number_id: str, token: str) -> PhoneNumberProfile:
        body = await self._app.get(phone_number_id, token, {"fields": PROFILE_FIELDS})
        return PhoneNumberProfile(
            id=str(body.get("id") or phone_number_id),
            display_phone_number=str(body.get("display_phone_number") or ""),
            verified_name=_text(body.get("verified_name")),
            quality_rating=_text(body.get("quality_rating")),
            messaging_limit=_limit(body.get("whatsapp_business_manager_messaging_limit")),
            status=_text(body.get("status")),
            platform_type=_text(body.get("platform_type")),
        )

    async def register(self, phone_number_id: str, token: str, pin: str) -> None:
        data = {"messaging_product": "whatsapp", "pin": pin}
        await self._app.call("POST", f"{phone_number_id}/register", token, data)


def _targets(info: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    targets: dict[str, tuple[str, ...]] = {}
    for grant in info.get("granular_scopes", []):
        if isinstance(grant, dict) and grant.get("scope"):
            ids = tuple(str(t) for t in grant.get("target_ids") or [])
            targets[str(grant["scope"])] = targets.get(str(grant["scope"]), ()) + ids
    return targets


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _limit(value: Any) -> str | None:
    """Meta documents the field, not its shape: a tier name, or an object carrying one."""
    if isinstance(value, dict):
        value = value.get("current_limit") or value.get("tier") or value.get("limit")
    return _text(value)
