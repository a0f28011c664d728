"""WhatsApp Cloud API state: uploaded media, accepted messages, windows and limiter buckets."""

from __future__ import annotations

from dataclasses import dataclass, field

from platform_sandbox.ratelimit import Bucket


@dataclass
class WaMedia:
    id: str
    phone_number_id: str
    mime_type: str
    data: bytes
    sha256: str
    created_at: float


@dataclass
class SentMessage:
    wamid: str
    phone_number_id: str
    waba_id: str
    to: str
    type: str
    category: str  # pricing category: service, utility, marketing, authentication
    created_at: float
    biz_opaque_callback_data: str | None = None


@dataclass
class WhatsAppStore:
    media: dict[str, WaMedia] = field(default_factory=dict)
    messages: dict[str, SentMessage] = field(default_factory=dict)
    last_inbound: dict[tuple[str, str], float] = field(default_factory=dict)
    throughput: dict[str, Bucket] = field(default_factory=dict)
    pairs: dict[tuple[str, str], Bucket] = field(default_factory=dict)
    undeliverable: dict[str, int] = field(default_factory=dict)  # wa_id -> error code
