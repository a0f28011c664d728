"""WhatsApp business accounts on Graph (platform-apis.md §3.1): the WABA and its phone numbers,
templates, app subscriptions (with an optional override callback, verified by Meta's handshake),
number registration with its two-step verification PIN (`register`: 100 without a 6-digit
`pin`, 133005 when the number already has another PIN), and a business's owned and client WABAs
(Embedded Signup discovery)."""

from __future__ import annotations

from typing import Any

from platform_sandbox.accounts import Template
from platform_sandbox.fields import select
from platform_sandbox.graph_errors import GraphError, invalid_param, missing_param
from platform_sandbox.graph_router import GraphCall
from platform_sandbox.media.fetch import is_loopback_url
from platform_sandbox.webhooks import verify_callback


def _phone_fields(call: GraphCall, number_id: str) -> dict[str, Any]:
    number = call.sandbox.state.accounts.phone_numbers[number_id]
    rate = number.throughput_mps or call.sandbox.settings.whatsapp.throughput_mps
    return {
        "id": number.id,
        "display_phone_number": number.display_phone_number,
        "verified_name": number.verified_name,
        "quality_rating": "GREEN",
        "code_verification_status": "VERIFIED",
        "platform_type": "CLOUD_API" if number.registered else "NOT_APPLICABLE",
        "status": "CONNECTED" if number.registered else "PENDING",
        "throughput": {"level": "HIGH" if rate >= 1000 else "STANDARD"},
        "messaging_limit_tier": "TIER_1K",  # deprecated by Meta for the field below
        "whatsapp_business_manager_messaging_limit": "TIER_1K",
        "name_status": "APPROVED",
    }


_PHONE_DEFAULT = [
    "verified_name",
    "code_verification_status",
    "display_phone_number",
    "quality_rating",
    "id",
]


async def get_phone_number(call: GraphCall) -> dict[str, Any]:
    fields = _phone_fields(call, call.need_node().id)
    return select(
        fields, call.req.params.text("fields"), _PHONE_DEFAULT, "WhatsAppBusinessPhoneNumber"
    )


async def phone_numbers(call: GraphCall) -> dict[str, Any]:
    accounts = call.sandbox.state.accounts
    wanted = call.req.params.text("fields")
    data = [
        select(_phone_fields(call, n.id), wanted, _PHONE_DEFAULT, "WhatsAppBusinessPhoneNumber")
        for n in accounts.phone_numbers_of(call.need_node().id)
    ]
    return {"data": data, "paging": {"cursors": {"before": "QVFI", "after": "QVFJ"}}}


async def get_waba(call: GraphCall) -> dict[str, Any]:
    waba = call.sandbox.state.accounts.wabas[call.need_node().id]
    available = {
        "id": waba.id,
        "name": waba.name,
        "currency": "USD",
        "timezone_id": "1",
        "message_template_namespace": f"sandbox_{waba.id}",
        "account_review_status": "APPROVED",
        "business_verification_status": "verified",
    }
    default = ["id", "name", "currency", "timezone_id", "message_template_namespace"]
    return select(available, call.req.params.text("fields"), default, "WhatsAppBusinessAccount")


async def message_templates(call: GraphCall) -> dict[str, Any]:
    """The WABA's templates as Meta lists them: name, language, status, category, id and
    `components` (HEADER with its `format`, BODY, BUTTONS), the parameters as `{{n}}`
    placeholders in their text (platform-apis.md §3)."""
    accounts, waba_id = call.sandbox.state.accounts, call.need_node().id
    data = [
        {
            "name": t.name,
            "language": t.language,
            "status": t.status,
            "category": t.category,
            "id": t.id,
            "components": _components(t),
        }
        for t in accounts.templates.values()
        if t.waba_id == waba_id
    ]
    return {"data": data, "paging": {"cursors": {"before": "MAZDZD", "after": "MjQZD"}}}


def _placeholders(count: int) -> str:
    return " ".join(f"{{{{{n}}}}}" for n in range(1, count + 1))


def _components(template: Template) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if template.header_format is not None or template.header_params:
        form = template.header_format or "TEXT"
        header: dict[str, Any] = {"type": "HEADER", "format": form}
        if form == "TEXT":
            header["text"] = f"{template.name} {_placeholders(template.header_params)}".strip()
        found.append(header)
    body = f"Message {template.name} {_placeholders(template.body_params)}".strip()
    found.append({"type": "BODY", "text": body})
    if template.buttons:
        buttons = [
            {"type": b.sub_type.upper(), "text": f"Button {i}"}
            | (
                {"url": f"https://sandbox.example/{_placeholders(b.params)}"}
                if b.sub_type == "url"
                else {}
            )
            for i, b in enumerate(template.buttons)
        ]
        found.append({"type": "BUTTONS", "buttons": buttons})
    return found


async def subscribe(call: GraphCall) -> dict[str, Any]:
    waba = call.sandbox.state.accounts.wabas[call.need_node().id]
    override = call.req.params.text("override_callback_uri")
    if override is not None:
        verify = call.req.params.require("verify_token")
        if not is_loopback_url(override):
            raise invalid_param("override_callback_uri must be a loopback URL in the sandbox")
        if not await verify_callback(call.sandbox.client(), override, verify):
            raise GraphError(
                2200, "Callback verification failed: the endpoint did not echo hub.challenge"
            )
        waba.override_callback_uri = override
    waba.subscribed_apps.add(call.need_token().app_id)
    return {"success": True}


async def subscriptions(call: GraphCall) -> dict[str, Any]:
    waba = call.sandbox.state.accounts.wabas[call.need_node().id]
    apps = [
        {
            "whatsapp_business_api_data": {
                "id": app_id,
                "name": "Herald",
                "link": "https://herald.example",
            }
        }
        | (
            {"override_callback_uri": waba.override_callback_uri}
            if waba.override_callback_uri
            else {}
        )
        for app_id in sorted(waba.subscribed_apps)
    ]
    return {"data": apps}


async def unsubscribe(call: GraphCall) -> dict[str, Any]:
    waba = call.sandbox.state.accounts.wabas[call.need_node().id]
    waba.subscribed_apps.discard(call.need_token().app_id)
    waba.override_callback_uri = None
    return {"success": True}


async def register_number(call: GraphCall) -> dict[str, Any]:
    number = call.sandbox.state.accounts.phone_numbers[call.need_node().id]
    if call.req.params.text("messaging_product") != "whatsapp":
        raise invalid_param("The parameter messaging_product is required.")
    pin = call.req.params.text("pin")
    if not pin:
        raise missing_param("pin")
    if len(pin) != 6 or not pin.isdigit():
        raise invalid_param("Param pin must be a 6-digit number.")
    if number.pin is not None and pin != number.pin:
        raise GraphError(
            133005,
            "Two step verification PIN Mismatch",
            details="The PIN does not match the two-step verification PIN of this number.",
        )
    number.pin = pin
    number.registered = True
    return {"success": True}


async def business_wabas(call: GraphCall) -> dict[str, Any]:
    business_id = call.need_node().id
    wabas = [w for w in call.sandbox.state.accounts.wabas.values() if w.business_id == business_id]
    owned = call.route.endpoint == "owned_whatsapp_business_accounts"
    data = [{"id": w.id, "name": w.name} for w in wabas] if owned else []
    return {"data": data, "paging": {"cursors": {"before": "QVFI", "after": "QVFJ"}}}
