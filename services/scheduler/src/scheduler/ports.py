"""Everything outside the scheduler's use cases, as Protocols: auth-service, the event emitter
(`herald.emitter.EventEmitter`), and the stores over MongoDB. Documents cross these ports as
plain dicts (`Doc`); their fields are described in docs/adr/0006-scheduler-dispatch-and-state.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from herald.events import IntegrationStatus
from herald.topics import Platform

Doc = dict[str, Any]


@dataclass(frozen=True)
class KeyInfo:
    business_id: str
    key_id: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class IntegrationInfo:
    integration_id: str
    business_id: str
    platform: Platform
    status: IntegrationStatus
    account_name: str | None = None


class ApiKeys(Protocol):
    async def introspect(self, key: str) -> KeyInfo | None:
        """The key's business and scopes, or None for an unknown or revoked key."""
        ...


class Integrations(Protocol):
    async def get(self, integration_id: str, business_id: str) -> IntegrationInfo | None:
        """The integration if it exists and belongs to the business, else None."""
        ...


@dataclass(frozen=True)
class PendingItem:
    """A target waiting for dispatch: everything needed to produce its `post.requested`."""

    target_id: str
    epoch: int
    due_at: datetime
    post_id: str
    business_id: str
    integration_id: str
    platform: Platform
    request: Doc  # content and options, as JSON


@dataclass(frozen=True)
class Claim:
    id: str
    target_id: str
    epoch: int
    generation: int
    owner: str
    kind: str  # "dispatch" or "cancel"
    claimed_at: datetime


@dataclass(frozen=True)
class PostFilter:
    business_id: str
    platform: str | None = None
    integration_id: str | None = None
    campaign_id: str | None = None
    due_from: datetime | None = None
    due_to: datetime | None = None


class PostStore(Protocol):
    async def insert_post(self, post: Doc) -> Doc | None:
        """Insert; on a duplicate (business, idempotency key) return the existing post."""
        ...

    async def find_by_key(self, business_id: str, idempotency_key: str) -> Doc | None: ...
    async def update_post(self, post_id: str, changes: Doc) -> None: ...
    async def insert_targets(self, targets: Sequence[Doc]) -> None: ...
    async def get_post(self, business_id: str, post_id: str) -> Doc | None: ...
    async def delete_post(self, post_id: str, target_ids: Sequence[str]) -> None: ...
    async def list_posts(
        self, where: PostFilter, after: tuple[datetime, str] | None, limit: int
    ) -> list[Doc]: ...
    async def targets_of(self, post_ids: Sequence[str]) -> list[Doc]: ...
    async def get_target(self, target_id: str) -> Doc | None: ...
    async def update_target(self, target_id: str, changes: Doc) -> None: ...
    async def add_history(self, entry: Doc) -> bool:
        """False when the entry (same `_id`) was recorded before."""
        ...

    async def history_of(self, post_id: str, limit: int) -> list[Doc]: ...
    async def add_rejection(self, rejection: Doc) -> None: ...


class DispatchStore(Protocol):
    async def add_pending(self, items: Sequence[PendingItem]) -> None: ...
    async def pending_before(self, moment: datetime, limit: int) -> list[PendingItem]: ...
    async def remove_pending(self, keys: Iterable[str]) -> None: ...
    async def claim(self, claims: Sequence[Claim]) -> set[str]:
        """Insert claims by unique id; the ids that were inserted (the others exist already)."""
        ...

    async def claims_for(self, target_id: str, epoch: int) -> list[Claim]: ...
    async def release(self, claim_ids: Iterable[str]) -> None: ...
    async def record_dispatches(self, dispatches: Sequence[Doc]) -> None: ...
    async def dispatched(self, keys: Iterable[str]) -> set[str]:
        """Of `target:epoch` keys, those with a recorded dispatch."""
        ...

    async def dispatch_facts(self, target_ids: Sequence[str]) -> list[Doc]: ...


class IntegrationView(Protocol):
    async def statuses(self, integration_ids: Iterable[str]) -> dict[str, IntegrationStatus]: ...
    async def remember(self, infos: Sequence[IntegrationInfo], at: datetime) -> None:
        """Record what auth-service just said, where it differs from what is known."""
        ...

    async def observe(self, info: IntegrationInfo, occurred_at: datetime) -> bool:
        """Record a status if newer than the one known; True if it was."""
        ...


class CampaignStore(Protocol):
    async def insert(self, campaign: Doc) -> None: ...
    async def get(self, business_id: str, campaign_id: str) -> Doc | None: ...
    async def for_business(self, business_id: str) -> list[Doc]: ...
    async def active(self) -> list[Doc]: ...
    async def update(self, campaign_id: str, changes: Doc) -> None: ...
