"""Status webhooks for accepted messages (platform-apis.md §3.4; OpenAPI `StatusMessageValue`,
`Statuses`, `StatusError`, `Pricing`).

An accepted message goes `sent` → `delivered` → `read` (read receipts on), or straight to
`failed` with `errors[]` when the platform gives up on it afterwards: the 24-hour window had
closed (131047), the recipient cannot get messages (131026), or linked media could not be
fetched (131053). The Cloud API reports these asynchronously, after a 200 with a wamid.
"""

from __future__ import annotations

from typing import Any

from platform_sandbox.accounts import PhoneNumber
from platform_sandbox.sandbox import Sandbox
from platform_sandbox.whatsapp.model import SentMessage

ERRORS = {
    131047: (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number.",
    ),
    131026: (
        "Message undeliverable",
        "Unable to deliver message. Reasons can include: the "
        "recipient phone number is not a WhatsApp phone number.",
    ),
    131053: ("Media upload error", "Unable to download the media sent in the message."),
}


def _pricing(message: SentMessage) -> dict[str, Any]:
    free = message.category == "service"
    return {
        "billable": not free,
        "pricing_model": "PMP",
        "type": "free_customer_service" if free else "regular",
        "category": message.category,
    }


def _status(message: SentMessage, status: str, at: float, error: int | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": message.wamid,
        "status": status,
        "timestamp": str(int(at)),
        "recipient_id": message.to,
    }
    if error is None:
        entry["pricing"] = _pricing(message)
    else:
        title, details = ERRORS.get(error, ("Message failed", "The message could not be sent."))
        entry["errors"] = [
            {
                "code": error,
                "title": title,
                "message": title,
                "error_data": {"details": details},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
            }
        ]
    if message.biz_opaque_callback_data is not None:
        entry["biz_opaque_callback_data"] = message.biz_opaque_callback_data
    return entry


def envelope(number: PhoneNumber, value: dict[str, Any]) -> dict[str, Any]:
    metadata = {"display_phone_number": number.digits, "phone_number_id": number.id}
    change = {
        "field": "messages",
        "value": {"messaging_product": "whatsapp", "metadata": metadata} | value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": number.waba_id, "changes": [change]}],
    }


def schedule_statuses(sandbox: Sandbox, message: SentMessage, error: int | None) -> None:
    """Queue the webhooks that follow an accepted message."""
    settings = sandbox.settings.whatsapp
    number = sandbox.state.accounts.phone_numbers[message.phone_number_id]
    waba = sandbox.state.accounts.wabas.get(number.waba_id)
    url = sandbox.webhooks.target("whatsapp", waba.override_callback_uri if waba else None)
    if url is None:
        sandbox.webhooks.skipped += 1  # no subscription: Meta sends nothing, so build nothing
        return
    now = sandbox.clock.now()
    steps = (
        [("failed", settings.sent_after_s)]
        if error is not None
        else [
            ("sent", settings.sent_after_s),
            ("delivered", settings.delivered_after_s),
        ]
    )
    if error is None and settings.read_receipts:
        steps.append(("read", settings.read_after_s))
    for status, delay in steps:
        at = now + delay
        payload = envelope(number, {"statuses": [_status(message, status, at, error)]})
        sandbox.webhooks.enqueue(
            "whatsapp", payload, due_at=at, summary=f"{status} {message.wamid}", url=url
        )
