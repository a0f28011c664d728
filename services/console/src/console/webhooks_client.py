"""The scheduler's webhook routes (`/v1/webhooks`, ADR 0021) as the console reads and calls
them: endpoints and their delivery log (the calls are `console.client.HttpHeraldApi`'s). A
secret is in the answer to create and rotate only; the console shows it once, never storing
it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Endpoint(_Read):
    id: str
    url: str
    event_types: list[str]
    description: str | None = None
    enabled: bool
    created_at: datetime
    failing_since: datetime | None = None
    disabled_at: datetime | None = None
    disabled_reason: str | None = None


class Attempt(_Read):
    number: int
    at: datetime
    status_code: int | None = None
    error: str | None = None
    duration_ms: int


class Delivery(_Read):
    id: str
    type: str
    state: str  # pending, delivered, failed
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None = None
    last_status: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    attempt_log: list[Attempt] = []
