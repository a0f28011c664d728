"""`POST /{phone-number-id}/messages` (platform-apis.md §3.2, §3.5, §3.6).

In order: the body is read as the OpenAPI `Message` schema; templates are checked against the
registered ones; media ids must exist; then the number's throughput (`130429`, default 80/s) and
the business-user pair rate (`131056`, one per 6 s with bursts) are spent. A free-form message
outside the 24-hour window is accepted and then fails by webhook with 131047 (or fails at once
when `whatsapp.window_error=sync`). The answer is the `MessageResponsePayload`:
`{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id"}]}`.
"""

from __future__ import annotations

from typing import Any

from platform_sandbox.accounts import PhoneNumber
from platform_sandbox.graph_errors import GraphError
from platform_sandbox.graph_router import GraphCall
from platform_sandbox.media.fetch import FetchError
from platform_sandbox.ratelimit import take
from platform_sandbox.sandbox import Sandbox
from platform_sandbox.whatsapp.model import SentMessage
from platform_sandbox.whatsapp.statuses import ERRORS, schedule_statuses
from platform_sandbox.whatsapp.templates import check_parameters, find_template
from platform_sandbox.whatsapp.validation import (
    MediaRef,
    Outbound,
    ReadReceipt,
    invalid,
    parse_outbound,
)

_MEDIA_KINDS = {
    "image": ("jpeg", "png"),
    "video": ("mp4", "mov"),
    "document": ("pdf", None),
    "sticker": ("webp",),
    "audio": (None,),
}


def _number(call: GraphCall) -> PhoneNumber:
    number = call.sandbox.state.accounts.phone_numbers[call.need_node().id]
    if not number.registered:
        raise GraphError(
            133010,
            "Phone number not registered",
            details="The phone number is not registered on Cloud API.",
        )
    return number


def _check_media(call: GraphCall, number: PhoneNumber, refs: list[MediaRef]) -> None:
    store = call.sandbox.state.whatsapp.media
    ttl = call.sandbox.settings.whatsapp.media_ttl_s
    for ref in refs:
        if ref.id is None:
            continue
        media = store.get(ref.id)
        owner = (
            call.sandbox.state.accounts.phone_numbers.get(media.phone_number_id) if media else None
        )
        if (
            media is None
            or owner is None
            or owner.waba_id != number.waba_id
            or call.now - media.created_at > ttl
        ):
            raise invalid(f"Media id {ref.id} was not found or has expired.")


def _spend(call: GraphCall, number: PhoneNumber, wa_id: str) -> None:
    settings, store, now = call.sandbox.settings.whatsapp, call.sandbox.state.whatsapp, call.now
    rate = number.throughput_mps or settings.throughput_mps
    bucket, ok = take(store.throughput.get(number.id), now=now, rate=rate, capacity=rate)
    store.throughput[number.id] = bucket
    if not ok:
        raise GraphError(
            130429, "Rate limit hit", details="Cloud API message throughput has been reached."
        )
    pair = (number.id, wa_id)
    bucket, ok = take(
        store.pairs.get(pair),
        now=now,
        rate=1 / settings.pair_interval_s,
        capacity=settings.pair_burst,
    )
    store.pairs[pair] = bucket
    if not ok:
        raise GraphError(
            131056,
            "(Business Account, Consumer Account) pair rate limit hit",
            details="Message failed to send because there were too many messages sent from this "
            "phone number to the same phone number in a short period of time.",
        )


def _window_error(call: GraphCall, number: PhoneNumber, message: Outbound) -> int | None:
    if message.template is not None:
        return None
    settings = call.sandbox.settings.whatsapp
    last = call.sandbox.state.whatsapp.last_inbound.get((number.id, message.wa_id))
    if last is not None and call.now - last < settings.service_window_s:
        return None
    if settings.window_error == "sync":
        title, details = ERRORS[131047]
        raise GraphError(131047, title, details=details)
    return 131047


async def send_message(call: GraphCall) -> dict[str, Any]:
    number = _number(call)
    parsed = parse_outbound(call.req.params, call.sandbox.settings.whatsapp.text_max_chars)
    if isinstance(parsed, ReadReceipt):
        return {"success": True}
    if parsed.wa_id == number.digits:
        raise GraphError(
            131021,
            "Recipient cannot be sender",
            details="Sender and recipient phone number is the same.",
        )
    category = "service"
    if parsed.template is not None:
        template = find_template(call.sandbox.state.accounts, number.waba_id, parsed.template)
        check_parameters(template, parsed.template)
        category = template.category.lower()
    _check_media(call, number, parsed.media)
    _spend(call, number, parsed.wa_id)
    error = _window_error(call, number, parsed) or call.sandbox.state.whatsapp.undeliverable.get(
        parsed.wa_id
    )
    message = _accept(call, number, parsed, category)
    links = [ref for ref in parsed.media if ref.link is not None]
    if links and error is None:
        call.sandbox.tasks.spawn(_fetch_then_report(call.sandbox, message, links))
    else:
        schedule_statuses(call.sandbox, message, error)
    reply: dict[str, Any] = {"id": message.wamid}
    if parsed.template is not None:
        reply["message_status"] = "accepted"
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": parsed.to, "wa_id": parsed.wa_id}],
        "messages": [reply],
    }


def _accept(call: GraphCall, number: PhoneNumber, parsed: Outbound, category: str) -> SentMessage:
    sandbox = call.sandbox
    message = SentMessage(
        sandbox.state.ids.wamid(parsed.wa_id),
        number.id,
        number.waba_id,
        parsed.wa_id,
        parsed.type,
        category,
        call.now,
        parsed.biz_opaque_callback_data,
    )
    sandbox.state.whatsapp.messages[message.wamid] = message
    text = parsed.texts[0] if parsed.texts else None
    sandbox.ledger.record(
        platform="whatsapp",
        kind="message_accepted",
        account=number.id,
        object_id=message.wamid,
        at=call.now,
        marker=sandbox.ledger.marker(call.req.headers, parsed.texts),
        text=text,
        request={
            "method": "POST",
            "path": call.req.path,
            "params": call.req.params.public(),
            "to": parsed.wa_id,
        },
    )
    return message


async def _fetch_then_report(sandbox: Sandbox, message: SentMessage, links: list[MediaRef]) -> None:
    """Cloud API downloads linked media after accepting the message; a failure is a webhook."""
    error = None
    for ref in links:
        try:
            fetched = await sandbox.fetcher.fetch(
                ref.link or "", max_bytes=sandbox.settings.whatsapp.document_max_bytes
            )
        except FetchError:
            error = 131053
            break
        if (
            None not in _MEDIA_KINDS[ref.kind]
            and fetched.sniffed.kind not in _MEDIA_KINDS[ref.kind]
        ):
            error = 131053
            break
    schedule_statuses(sandbox, message, error)
