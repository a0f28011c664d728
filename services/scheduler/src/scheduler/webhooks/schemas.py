"""The webhook API's bodies (`/v1/webhooks`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from herald.notices import WEBHOOK_TYPES

TYPES = sorted(WEBHOOK_TYPES)
# The document names the types a subscription takes (the validator below refuses others).
KNOWN: dict[str, Any] = {"type": "string", "enum": TYPES}
KNOWN_LIST: dict[str, Any] = {"type": "array", "items": KNOWN, "maxItems": 50}


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _known(types: list[str] | None) -> list[str] | None:
    if types is None:
        return None
    unknown = [t for t in types if t not in WEBHOOK_TYPES]
    if unknown:
        # repr: a name may hold a lone surrogate, which the answer's UTF-8 could not carry
        named = ", ".join(repr(t) for t in unknown)
        msg = f"unknown event type(s) {named}; known: {', '.join(TYPES)}"
        raise ValueError(msg)
    return list(dict.fromkeys(types))


class EndpointCreate(Body):
    url: str = Field(min_length=1, max_length=2048, examples=["https://example.com/herald"])
    event_types: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Empty: every type.",
        json_schema_extra={"items": KNOWN},
    )
    description: str | None = Field(default=None, max_length=500)
    enabled: StrictBool = True

    _types = field_validator("event_types")(_known)


class EndpointUpdate(Body):
    url: str | None = Field(default=None, min_length=1, max_length=2048)
    event_types: list[str] | None = Field(
        default=None, max_length=50, json_schema_extra={"anyOf": [KNOWN_LIST, {"type": "null"}]}
    )
    description: str | None = Field(default=None, max_length=500)
    enabled: StrictBool | None = Field(
        default=None, description="true re-enables a disabled endpoint (its failures forgotten)."
    )

    _types = field_validator("event_types")(_known)


class Rotate(Body):
    overlap_s: int = Field(
        default=86400,
        ge=0,
        description="How long the old secret still signs (beside the new one), so receivers "
        "can switch without losing a delivery.",
    )


class SecretInfo(BaseModel):
    created_at: datetime
    expires_at: datetime | None


class EndpointView(BaseModel):
    id: str
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None = Field(description="Why Herald disabled it (null: it did not).")
    secrets: list[SecretInfo] = Field(description="Secrets that sign now; values never shown.")


class EndpointCreated(EndpointView):
    secret: str = Field(description="Shown once: verify the `webhook-signature` with it.")


class EndpointList(BaseModel):
    items: list[EndpointView]


class AttemptView(BaseModel):
    number: int
    at: datetime
    status_code: int | None = Field(description="null: no answer (refused, timeout, error).")
    error: str | None
    duration_ms: int


class DeliveryView(BaseModel):
    id: str
    message_id: str = Field(description="The `webhook-id` header.")
    endpoint_id: str
    type: str
    state: str = Field(description="pending, delivered or failed")
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    payload: str = Field(description="The body exactly as signed and sent.")
    attempt_log: list[AttemptView]


class DeliveryList(BaseModel):
    items: list[DeliveryView]
