"""What the WhatsApp flows need from outside, as ports (adapters in `adapters/`; tests use the
fakes in `publisher_whatsapp.testing`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from herald.events import MessageStatusEvent

FlagReason = Literal["undeliverable", "opted_out"]


@dataclass(frozen=True)
class SentMessage:
    """One accepted message: what a status webhook about `message_id` is about."""

    message_id: str
    phone_number_id: str
    post_id: str
    target_id: str
    business_id: str
    integration_id: str
    recipient_id: str
    to: str
    sent_at: datetime


@dataclass(frozen=True)
class ContactFlag:
    """A contact WhatsApp will not deliver to (131026) or who opted out (131050). The scheduler
    owns contacts: it learns of the flag from `herald.message.recipient_flagged.v1`."""

    business_id: str
    integration_id: str
    to: str
    reason: FlagReason
    code: str
    message: str
    post_id: str
    target_id: str
    recipient_id: str
    message_id: str | None
    source: str  # send (a refused send) | status (a failed status webhook)
    observed_at: datetime
    remediation: str | None = None


@dataclass(frozen=True)
class FetchedMedia:
    data: bytes
    mime_type: str | None


class CloudApi(Protocol):
    async def send(self, token: str, phone_number_id: str, body: Mapping[str, Any]) -> str:
        """`POST /{phone-number-id}/messages` with a JSON body; the accepted message's id."""
        ...

    async def upload(
        self, token: str, phone_number_id: str, *, data: bytes, mime_type: str, filename: str
    ) -> str:
        """`POST /{phone-number-id}/media` (multipart); the media id."""
        ...


class MediaSource(Protocol):
    async def read(self, url: str, *, max_bytes: int) -> FetchedMedia:
        """The whole file at `url` (through the safe media fetcher)."""
        ...


class MessageLog(Protocol):
    """Accepted messages, written as they are accepted (the webhook maps statuses through it)."""

    async def record(self, messages: Sequence[SentMessage]) -> None: ...

    async def sent_for(self, target_id: str) -> dict[str, str]:
        """recipient id → message id of every message recorded for a target."""
        ...

    async def remember_number(
        self, phone_number_id: str, integration_id: str, business_id: str
    ) -> None:
        """A number Herald sends from: its webhooks are accepted."""
        ...


class ContactFlags(Protocol):
    async def flag(self, flag: ContactFlag) -> bool:
        """Tell the scheduler, once per (business, number, reason); True when it is new."""
        ...


class SendObserver(Protocol):
    """Metrics of sending; labels are outcomes and platform codes, never ids."""

    def message(self, outcome: str, code: str | None) -> None: ...

    def throttled(self, code: str) -> None: ...

    def waited(self, seconds: float) -> None: ...

    def rate(self, ratio: float) -> None: ...


class StatusStore(Protocol):
    """What the status webhook reads and writes."""

    async def is_known_number(self, phone_number_id: str) -> bool: ...

    async def messages(self, message_ids: Sequence[str]) -> dict[str, SentMessage]: ...

    async def claim(self, message_id: str, status: str) -> bool:
        """Insert (message id, status) under a unique index; False when already there and
        its event was emitted (a duplicate delivery)."""
        ...

    async def emitted(self, message_id: str, status: str) -> None: ...


class StatusSink(Protocol):
    async def publish(self, event: MessageStatusEvent, *, event_id: str) -> None:
        """Produce to `message.status` (keyed by target id), acknowledged by the broker."""
        ...


class WebhookObserver(Protocol):
    def rejected(self, reason: str) -> None:
        """A delivery refused: missing_signature, bad_signature, unreadable, unknown_number,
        too_large, handshake."""
        ...

    def status(self, status: str, *, duplicate: bool) -> None: ...

    def unknown_message(self, *, retried: bool) -> None: ...
