"""For tests: hand-written fakes of every port. `FakeCloudApi` records the bodies it was sent and
answers each recipient (by `to`) from a script of errors; the stores keep everything in memory
and can be told to fail."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from herald.content import PostContent, WhatsAppOptions
from herald.errors import PlatformError
from herald.events import MessageStatusEvent, PostRequested
from herald.topics import Platform
from publisher_whatsapp.ports import ContactFlag, FetchedMedia, SentMessage


@dataclass
class FakeCloudApi:
    """`script[to]` lists what successive sends to `to` do: an error to raise, None to accept."""

    script: dict[str, list[PlatformError | None]] = field(default_factory=dict)
    every: PlatformError | None = None
    latency_s: float = 0.0
    on_send: Callable[[str], None] | None = None
    bodies: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[tuple[str, str]] = field(default_factory=list)  # (to, message id)
    uploads: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def send(self, token: str, phone_number_id: str, body: Mapping[str, Any]) -> str:
        self.bodies.append(dict(body))
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        to = str(body["to"])
        if self.on_send is not None:
            self.on_send(to)
        planned = self.script.get(to)
        outcome = planned.pop(0) if planned else None
        if outcome is None and self.every is not None:
            outcome = self.every
        if outcome is not None:
            raise outcome
        message_id = f"wamid.{next(self._ids)}"
        self.accepted.append((to, message_id))
        return message_id

    async def upload(
        self, token: str, phone_number_id: str, *, data: bytes, mime_type: str, filename: str
    ) -> str:
        self.uploads.append({"size": len(data), "mime_type": mime_type, "filename": filename})
        return f"media.{len(self.uploads)}"

    def sent_to(self) -> Counter[str]:
        return Counter(to for to, _ in self.accepted)


@dataclass
class FakeMedia:
    files: dict[str, FetchedMedia] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)

    async def read(self, url: str, *, max_bytes: int) -> FetchedMedia:
        self.reads.append(url)
        return self.files.get(url, FetchedMedia(b"\xff\xd8\xff" + b"0" * 64, "image/jpeg"))


@dataclass
class MemoryMessages:
    """`MessageLog` and `StatusStore` in memory; `broken` makes every write fail, and
    `failures` the next that many."""

    stored: dict[str, SentMessage] = field(default_factory=dict)
    numbers: set[str] = field(default_factory=set)
    claims: dict[str, bool] = field(default_factory=dict)  # "<id>:<status>" → emitted
    writes: int = 0
    broken: Exception | None = None
    failures: int = 0

    async def record(self, messages: Sequence[SentMessage]) -> None:
        if self.broken is not None:
            raise self.broken
        if self.failures:
            self.failures -= 1
            msg = "the store is restarting"
            raise ConnectionError(msg)
        self.writes += 1
        for message in messages:
            self.stored.setdefault(message.message_id, message)

    async def sent_for(self, target_id: str) -> dict[str, str]:
        found: dict[str, str] = {}
        for message in sorted(self.stored.values(), key=lambda m: m.sent_at):
            if message.target_id == target_id:
                found.setdefault(message.recipient_id, message.message_id)
        return found

    async def remember_number(
        self, phone_number_id: str, integration_id: str, business_id: str
    ) -> None:
        self.numbers.add(phone_number_id)

    async def is_known_number(self, phone_number_id: str) -> bool:
        return phone_number_id in self.numbers

    async def messages(self, message_ids: Sequence[str]) -> dict[str, SentMessage]:
        return {i: self.stored[i] for i in message_ids if i in self.stored}

    async def claim(self, message_id: str, status: str) -> bool:
        key = f"{message_id}:{status}"
        if key in self.claims:
            return not self.claims[key]
        self.claims[key] = False
        return True

    async def emitted(self, message_id: str, status: str) -> None:
        self.claims[f"{message_id}:{status}"] = True


@dataclass
class MemoryFlags:
    flags: dict[str, ContactFlag] = field(default_factory=dict)

    async def flag(self, flag: ContactFlag) -> bool:
        key = f"{flag.business_id}:{flag.to}:{flag.reason}"
        if key in self.flags:
            return False
        self.flags[key] = flag
        return True


@dataclass
class RecordingObserver:
    messages: Counter[tuple[str, str]] = field(default_factory=Counter)
    throttles: Counter[str] = field(default_factory=Counter)
    waits: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    rejections: Counter[str] = field(default_factory=Counter)
    statuses: Counter[tuple[str, bool]] = field(default_factory=Counter)
    unknown: Counter[bool] = field(default_factory=Counter)

    def message(self, outcome: str, code: str | None) -> None:
        self.messages[(outcome, code or "")] += 1

    def throttled(self, code: str) -> None:
        self.throttles[code] += 1

    def waited(self, seconds: float) -> None:
        self.waits.append(seconds)

    def rate(self, ratio: float) -> None:
        self.rates.append(ratio)

    def rejected(self, reason: str) -> None:
        self.rejections[reason] += 1

    def status(self, status: str, *, duplicate: bool) -> None:
        self.statuses[(status, duplicate)] += 1

    def unknown_message(self, *, retried: bool) -> None:
        self.unknown[retried] += 1


@dataclass
class RecordingSink:
    events: list[tuple[str, MessageStatusEvent]] = field(default_factory=list)
    broken: Exception | None = None

    async def publish(self, event: MessageStatusEvent, *, event_id: str) -> None:
        if self.broken is not None:
            raise self.broken
        self.events.append((event_id, event))


def whatsapp_request(
    target_id: str,
    recipients: Sequence[dict[str, Any]],
    *,
    text: str | None = None,
    media: Sequence[dict[str, Any]] = (),
    template: dict[str, Any] | None = None,
    preview_url: bool = False,
    integration_id: str = "wa-integration-1",
) -> PostRequested:
    now = datetime.now(UTC)
    options = {"template": template, "preview_url": preview_url, "recipients": list(recipients)}
    return PostRequested(
        post_id=f"post-{target_id}",
        target_id=target_id,
        business_id="b1",
        integration_id=integration_id,
        platform=Platform.WHATSAPP,
        content=PostContent.model_validate({"text": text, "media": list(media)}),
        options=WhatsAppOptions.model_validate(options),
        due_at=now,
        requested_at=now,
    )


def status_delivery(
    phone_number_id: str,
    statuses: Sequence[tuple[str, str, int | None]],
    *,
    at: int = 1_800_000_000,
    recipient: str = "15550001111",
) -> bytes:
    """A status webhook body as Meta sends it (`WebhookPayload` of `StatusMessageValue`s, escaped
    like Meta's: non-ASCII as \\uXXXX, `/` as `\\/`): (message id, status, error code)."""
    entries = []
    for message_id, status, code in statuses:
        entry: dict[str, Any] = {
            "id": message_id,
            "status": status,
            "timestamp": str(at),
            "recipient_id": recipient,
        }
        if code is None:
            entry["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "marketing"}
        else:
            entry["errors"] = [
                {
                    "code": code,
                    "title": "Message undeliverable",
                    "message": "Message undeliverable",
                    "error_data": {"details": "Unable to deliver message."},
                    "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/",
                }
            ]
        entries.append(entry)
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550100001", "phone_number_id": phone_number_id},
        "statuses": entries,
    }
    payload = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "waba-1", "changes": [{"field": "messages", "value": value}]}],
    }
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()


def signed(body: bytes, secret: str) -> str:
    """`X-Hub-Signature-256` for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
