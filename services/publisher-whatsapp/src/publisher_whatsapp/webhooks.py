"""Status webhooks → `message.status` events (platform-apis.md §3.4; the payload is the OpenAPI
`WebhookPayload` with `StatusMessageValue` changes).

A delivery is checked before it is read: the signature over the raw body (`signatures`), then
every `metadata.phone_number_id` must be a number Herald sends from. Each status is then
- mapped through the message log (message id → post, target, recipient);
- claimed by inserting (message id, status) under a unique index, so a delivery replayed any
  number of times, or statuses arriving out of order, yield one event per (message, status);
- produced to `message.status` keyed by target id, with a CloudEvents id derived from
  (message id, status), so a re-emission after a failure carries the same id.
A `failed` status with 131026 or 131050 also flags the contact.

A status for a message id not (yet) in the log, younger than the grace period, makes the answer
503 after the rest is handled: its message was accepted a moment ago and its log write has not
landed, and Meta delivers again. Older unknown ones (sent by other tools) are dropped.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

import structlog

from herald.errors import ErrorCategory
from herald.events import (
    FailureDetail,
    MessageDelivered,
    MessageFailed,
    MessageRead,
    MessageSent,
    MessageStatusEvent,
)
from herald.graph.errors import rule_for
from herald.inputs import unstorable_text
from herald.topics import Platform
from publisher_whatsapp.domain import FLAG_REASONS
from publisher_whatsapp.ports import (
    ContactFlag,
    ContactFlags,
    SentMessage,
    StatusSink,
    StatusStore,
    WebhookObserver,
)
from publisher_whatsapp.signatures import BadSignature, handshake, verify

log = structlog.get_logger(__name__)

_EVENTS: dict[str, type[MessageStatusEvent]] = {
    "sent": MessageSent,
    "delivered": MessageDelivered,
    "read": MessageRead,
}
_AT_ONCE = 32
# What reading a delivery can raise on input no retry changes: malformed or nested too deep for
# the parser, a timestamp out of any date's range (issue 19).
UNREADABLE = (
    ValueError,
    TypeError,
    KeyError,
    AttributeError,
    RecursionError,
    OverflowError,
    OSError,
)


class WebhookRejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WebhookNotHandled(Exception):
    """Valid, but some statuses cannot be mapped yet: 503, Meta delivers again."""


@dataclass(frozen=True)
class Status:
    message_id: str
    status: str
    at: datetime
    recipient: str
    errors: list[dict[str, Any]]
    pricing_category: str | None = None  # `pricing.category`, for analytics (ADR 0020)


@dataclass
class StatusReceiver:
    store: StatusStore
    sink: StatusSink
    flags: ContactFlags
    observer: WebhookObserver
    secrets: list[str]
    verify_token: str
    grace_s: float = 600.0
    clock: Callable[[], float] = time.time

    def handshake(self, mode: str | None, token: str | None, challenge: str | None) -> str:
        try:
            return handshake(mode, token, challenge, self.verify_token)
        except BadSignature as exc:
            self.observer.rejected(exc.reason)
            raise WebhookRejected(403, exc.reason) from None

    async def receive(self, body: bytes, signature: str | None) -> dict[str, int]:
        try:
            verify(signature, body, self.secrets)
        except BadSignature as exc:
            self._reject(401, exc.reason)
        numbers, statuses = self._read(body)
        for number in numbers:
            if not await self.store.is_known_number(number):
                self._reject(403, "unknown_number")
        known = await self.store.messages(sorted({s.message_id for s in statuses}))
        results: list[str] = []
        for start in range(0, len(statuses), _AT_ONCE):
            chunk = statuses[start : start + _AT_ONCE]
            results += await asyncio.gather(*(self._one(s, known.get(s.message_id)) for s in chunk))
        summary = {name: results.count(name) for name in set(results)}
        log.info("whatsapp.webhook", **summary)
        if "not_yet" in summary:
            raise WebhookNotHandled
        return summary

    def _reject(self, status: int, reason: str) -> NoReturn:
        self.observer.rejected(reason)
        log.warning("whatsapp.webhook_rejected", reason=reason)
        raise WebhookRejected(status, reason)

    def _read(self, body: bytes) -> tuple[set[str], list[Status]]:
        try:
            payload = json.loads(body)
            if payload.get("object") != "whatsapp_business_account":
                raise ValueError("not a WhatsApp Business Account delivery")
            if next(unstorable_text(payload), None) is not None:
                raise ValueError("text that cannot be stored (a lone surrogate or NUL)")
            changes = [
                c for e in payload["entry"] for c in e["changes"] if c["field"] == "messages"
            ]
            numbers = {str(c["value"]["metadata"]["phone_number_id"]) for c in changes}
            statuses = [_status(s) for c in changes for s in c["value"].get("statuses", [])]
        except UNREADABLE:
            self._reject(400, "unreadable")
        # The same (message, status) twice in one delivery is one status.
        unique = {(s.message_id, s.status): s for s in statuses if s is not None}
        return numbers, list(unique.values())

    async def _one(self, status: Status, sent: SentMessage | None) -> str:
        if sent is None:
            retried = self.clock() - status.at.timestamp() < self.grace_s
            self.observer.unknown_message(retried=retried)
            return "not_yet" if retried else "unknown"
        if not await self.store.claim(status.message_id, status.status):
            self.observer.status(status.status, duplicate=True)
            return "duplicate"
        event = _event(status, sent)
        key = f"whatsapp-status:{status.message_id}:{status.status}"
        await self.sink.publish(event, event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, key)))
        await self.store.emitted(status.message_id, status.status)
        self.observer.status(status.status, duplicate=False)
        if isinstance(event, MessageFailed):
            await self._flag(event, sent)
        return status.status

    async def _flag(self, event: MessageFailed, sent: SentMessage) -> None:
        reason = FLAG_REASONS.get(event.error.code or "")
        if reason is None:
            return
        await self.flags.flag(
            ContactFlag(
                business_id=sent.business_id,
                integration_id=sent.integration_id,
                to=sent.to,
                reason=reason,
                code=event.error.code or "",
                message=event.error.message,
                post_id=sent.post_id,
                target_id=sent.target_id,
                recipient_id=sent.recipient_id,
                message_id=sent.message_id,
                source="status",
                observed_at=event.status_at,
                remediation=event.error.remediation,
            )
        )


def _status(raw: Any) -> Status | None:
    """A `Statuses` object; one Herald does not report (another status kind) is None."""
    kind = raw["status"]
    if kind not in (*_EVENTS, "failed"):
        return None
    at = datetime.fromtimestamp(int(raw["timestamp"]), UTC)
    errors = [e for e in raw.get("errors") or [] if isinstance(e, dict)]
    pricing = raw.get("pricing")
    category = pricing.get("category") if isinstance(pricing, dict) else None
    return Status(
        str(raw["id"]),
        kind,
        at,
        str(raw["recipient_id"]),
        errors,
        category if isinstance(category, str) else None,
    )


def _event(status: Status, sent: SentMessage) -> MessageStatusEvent:
    common: dict[str, Any] = {
        "post_id": sent.post_id,
        "target_id": sent.target_id,
        "business_id": sent.business_id,
        "integration_id": sent.integration_id,
        "platform": Platform.WHATSAPP,
        "recipient_id": sent.recipient_id,
        "message_id": sent.message_id,
        "status_at": status.at,
        "pricing_category": status.pricing_category,
    }
    if status.status != "failed":
        return _EVENTS[status.status](**common)
    return MessageFailed(**common, error=_failure(status.errors))


def _failure(errors: Sequence[dict[str, Any]]) -> FailureDetail:
    first = errors[0] if errors else {}
    code = first.get("code")
    details = (
        first.get("error_data", {}).get("details")
        if isinstance(first.get("error_data"), dict)
        else None
    )
    message = " — ".join(str(p) for p in (first.get("title") or first.get("message"), details) if p)
    rule = rule_for(code if isinstance(code, int) else None, None)
    return FailureDetail(
        category=rule.kind.category if rule is not None else ErrorCategory.PERMANENT,
        code=None if code is None else str(code),
        message=message or "WhatsApp reported the message as failed",
        remediation=rule.remediation if rule is not None else None,
    )
