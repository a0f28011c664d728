"""Everything outside the handlers, as protocols: storage, the platforms, the clock, events.

Adapters in `adapters/` implement these; tests use hand-written fakes or the real adapters
against FerretDB and the sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from auth_service.domain import (
    ApiKeyRecord,
    AuthServer,
    Business,
    DiscoveredAccount,
    Integration,
    OAuthState,
    RefreshMode,
    SecretField,
    TokenGrant,
)
from herald.emitter import EventEmitter
from herald.topics import Platform

__all__ = [
    "ApiKeyRepo",
    "AuthorizeRequest",
    "BusinessRepo",
    "Clock",
    "DeletionRepo",
    "DeliveryRepo",
    "EventEmitter",
    "IntegrationRepo",
    "LockRepo",
    "Metrics",
    "ProviderGateway",
    "StateRepo",
    "WhatsAppOnboarding",
]


class Clock(Protocol):
    def now(self) -> datetime: ...


class BusinessRepo(Protocol):
    async def insert(self, business: Business) -> None: ...
    async def get(self, business_id: str) -> Business | None: ...
    async def all(self) -> list[Business]: ...
    async def set_timezone(self, business_id: str, timezone: str) -> Business | None: ...


class ApiKeyRepo(Protocol):
    async def insert(self, key: ApiKeyRecord) -> None: ...
    async def get(self, key_id: str) -> ApiKeyRecord | None: ...
    async def for_business(self, business_id: str) -> list[ApiKeyRecord]: ...
    async def revoke(self, key_id: str, at: datetime) -> bool: ...
    async def touch(self, key_id: str, at: datetime) -> None: ...


class DuplicateAccount(Exception):
    """The business already has an integration for this platform account."""


class IntegrationRepo(Protocol):
    async def get(self, integration_id: str) -> Integration | None: ...
    async def for_business(
        self, business_id: str, platform: Platform | None = None
    ) -> list[Integration]: ...
    async def find_account(
        self, business_id: str, platform: Platform, account_id: str
    ) -> Integration | None: ...
    async def insert(self, integration: Integration) -> None:
        """Raises `DuplicateAccount` when the account is connected to this business already."""
        ...

    async def replace(self, integration: Integration, *, expected_version: int) -> bool:
        """Store `integration` with version `expected_version + 1` if the stored version is
        still `expected_version`; False otherwise."""
        ...

    async def touch(self, integration_id: str, at: datetime) -> None: ...
    async def due(
        self,
        mode: RefreshMode,
        *,
        now: datetime,
        expires_before: datetime | None,
        checked_before: datetime | None,
        limit: int,
    ) -> list[Integration]:
        """Active integrations of `mode` whose token expires, or whose last check was, before
        the given times, and that are not waiting out a failure."""
        ...

    async def of_provider_user(
        self, auth_server: AuthServer, provider_user_id: str
    ) -> list[Integration]: ...
    async def of_account(self, platform: Platform, account_id: str) -> list[Integration]: ...
    async def ids_not_under(self, kid: str, limit: int) -> list[str]: ...
    async def all_ids(self) -> list[str]: ...
    async def count_by_status(self) -> dict[tuple[str, str], int]: ...
    async def count_by_kid(self) -> dict[str, int]: ...


class StateRepo(Protocol):
    async def put(self, state: OAuthState) -> None: ...
    async def get(self, state_hash: str) -> OAuthState | None: ...
    async def mark_used(self, state_hash: str, at: datetime) -> bool:
        """True for the first use; False when the state was used before (a unique insert)."""
        ...

    async def mark_code_used(self, code_hash: str, at: datetime) -> bool: ...
    async def bind(self, state_hash: str, browser_hash: str, at: datetime) -> bool:
        """Bind a state to the browser that opened its start link: True for the first
        binding, False when the state is bound already (a unique insert)."""
        ...

    async def binding(self, state_hash: str) -> str | None:
        """The digest of the browser secret the state is bound to, if any."""
        ...

    async def cleanup(self, now: datetime, keep_marks_s: int) -> int: ...


class LockRepo(Protocol):
    async def acquire(self, name: str, owner: str, now: datetime, lease_s: float) -> bool:
        """Take the lock by a unique insert; a lock whose lease ran out may be taken over."""
        ...

    async def release(self, name: str, owner: str) -> None: ...
    async def holds(self, name: str, owner: str, now: datetime) -> bool: ...
    async def cleanup(self, now: datetime) -> int: ...


@dataclass(frozen=True)
class OutboxEntry:
    """An integration event stored before it is produced: removed once Kafka has it, sent again
    by the outbox loop when it is still there (`id` is the CloudEvents id, kept across sends)."""

    id: str
    event_type: str
    topic: str
    key: str
    payload: dict[str, object]
    created_at: datetime


class OutboxRepo(Protocol):
    async def add(self, entry: OutboxEntry) -> None: ...
    async def remove(self, entry_id: str) -> None: ...
    async def due(self, before: datetime, limit: int) -> list[OutboxEntry]: ...
    async def count(self) -> int: ...


class DeletionRepo(Protocol):
    async def record(
        self, code: str, user_id: str, integration_ids: list[str], at: datetime
    ) -> None: ...
    async def get(self, code: str) -> dict[str, object] | None: ...


class DeliveryRepo(Protocol):
    """Webhook deliveries already acted on, by a digest of what the platform signed: a replay
    inside the freshness window finds its mark. Marks outlive every window, then are swept."""

    async def first(self, key: str, at: datetime) -> bool:
        """True for the first delivery of `key`; False when it was seen (a unique insert)."""
        ...

    async def forget(self, key: str) -> None:
        """Drop a mark whose delivery could not be handled, so the platform's retry is taken."""
        ...

    async def cleanup(self, before: datetime) -> int: ...


@dataclass(frozen=True)
class AuthorizeRequest:
    state: str
    redirect_uri: str
    code_challenge: str | None
    auth_server: AuthServer


class ProviderGateway(Protocol):
    """One platform's OAuth server and token API. Errors are `herald.errors` classes:
    `NeedsReauth` (invalid_grant, Graph 190), `Transient`, `Throttled`, `Permanent`."""

    platform: Platform

    def auth_servers(self) -> tuple[AuthServer, ...]: ...
    def uses_pkce(self, auth_server: AuthServer) -> bool: ...
    def authorize_url(self, request: AuthorizeRequest) -> str: ...

    async def connect(
        self, *, auth_server: AuthServer, code: str, redirect_uri: str, code_verifier: str | None
    ) -> list[DiscoveredAccount]:
        """Exchange the code, then discover every account it grants (one integration each)."""
        ...

    async def refresh(
        self, integration: Integration, tokens: Mapping[SecretField, str]
    ) -> TokenGrant: ...

    async def check(self, integration: Integration, tokens: Mapping[SecretField, str]) -> None:
        """Raise `NeedsReauth` when the stored token no longer works."""
        ...

    async def revoke(self, integration: Integration, tokens: Mapping[SecretField, str]) -> bool:
        """Revoke at the platform where it allows; False where it has no revoke call."""
        ...


@runtime_checkable
class TemplateSource(Protocol):
    """A provider that lists a WhatsApp Business Account's message templates."""

    async def message_templates(
        self, integration: Integration, token: str
    ) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class BusinessGrant:
    """What a WhatsApp Embedded Signup code stood for: the business token and, from
    `debug_token`, its permissions and the asset ids each one was granted on."""

    token: str
    expires_at: datetime | None
    valid: bool
    scopes: tuple[str, ...]
    targets: Mapping[str, tuple[str, ...]]  # permission -> granted asset ids
    user_id: str | None


@dataclass(frozen=True)
class PhoneNumberProfile:
    """A business phone number as Graph describes it (platform-apis.md §3.1)."""

    id: str
    display_phone_number: str
    verified_name: str | None
    quality_rating: str | None
    messaging_limit: str | None
    status: str | None  # CONNECTED once registered for Cloud API; PENDING before
    platform_type: str | None  # CLOUD_API, ON_PREMISE, NOT_APPLICABLE


class WhatsAppOnboarding(Protocol):
    """Graph calls that finish Embedded Signup for one number (Meta's onboarding guide). Errors
    are `herald.errors` classes carrying Graph's code and subcode."""

    async def exchange(self, code: str) -> BusinessGrant:
        """A JS SDK code for the business token (no redirect URI), inspected by `debug_token`."""
        ...

    async def numbers(self, waba_id: str, token: str) -> list[str]:
        """The ids of the WABA's phone numbers."""
        ...

    async def subscribe(self, waba_id: str, token: str) -> None: ...
    async def profile(self, phone_number_id: str, token: str) -> PhoneNumberProfile: ...
    async def register(self, phone_number_id: str, token: str, pin: str) -> None: ...


class Metrics(Protocol):
    """Counters and gauges the handlers move; the adapter is Prometheus (`metrics.py`)."""

    def refresh(self, provider: str, outcome: str) -> None: ...
    def callback(self, provider: str, outcome: str) -> None: ...
    def integrations(self, counts: Mapping[tuple[str, str], int]) -> None: ...
    def vault_records(self, counts: Mapping[str, int]) -> None: ...
