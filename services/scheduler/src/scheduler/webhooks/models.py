"""Endpoints, deliveries and attempts as the webhook use cases see them (ADR 0021)."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
SECRET_BYTES = 32


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


def new_id(prefix: str) -> str:
    return f"{prefix}_{os.urandom(12).hex()}"


@dataclass(frozen=True)
class Secret:
    value: str
    created_at: datetime
    expires_at: datetime | None = None  # set when a rotation replaced it: signed with until then

    def valid_at(self, moment: datetime) -> bool:
        return self.expires_at is None or moment < self.expires_at


@dataclass(frozen=True)
class Endpoint:
    id: str
    business_id: str
    url: str
    event_types: tuple[str, ...]  # empty: every type
    description: str | None
    enabled: bool
    secrets: tuple[Secret, ...]  # newest first
    created_at: datetime
    updated_at: datetime
    failing_since: datetime | None = None
    disabled_at: datetime | None = None
    disabled_reason: str | None = None

    def wants(self, webhook_type: str) -> bool:
        return self.enabled and (not self.event_types or webhook_type in self.event_types)

    def signing_secrets(self, moment: datetime) -> list[str]:
        return [s.value for s in self.secrets if s.valid_at(moment)]


class DeliveryState(StrEnum):
    PENDING = "pending"  # queued: a first attempt or a retry is due
    DELIVERED = "delivered"  # a 2xx answer
    FAILED = "failed"  # given up after `give_up_after_s`, or the endpoint was disabled


@dataclass(frozen=True)
class Delivery:
    id: str
    message_id: str  # `webhook-id`: the notice's CloudEvents id
    endpoint_id: str
    business_id: str
    webhook_type: str
    payload: str  # the body exactly as signed and sent
    state: DeliveryState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    first_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class Attempt:
    delivery_id: str
    number: int
    at: datetime
    status_code: int | None  # None: no answer (refused, timeout, connection error)
    error: str | None
    duration_ms: int
