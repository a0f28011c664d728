"""Everything outside the scheduler's use cases, as Protocols: auth-service, the event emitter
(`herald.emitter.EventEmitter`), and the stores over MongoDB. Records cross these ports as the
typed models of `scheduler.models`, `scheduler.contacts` and `scheduler.deliveries`; the adapters
alone know the stored documents (docs/adr/0006-scheduler-dispatch-and-state.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from herald.events import IntegrationStatus, Schedule
from herald.topics import Platform
from herald.tracing import TraceContext
from herald.whatsapp_registry import RegisteredTemplate
from scheduler.contacts import Audience, Contact, Suppression
from scheduler.deliveries import Fact, Recipient, RecordedFact
from scheduler.models import (
    Campaign,
    DispatchFact,
    HistoryEntry,
    JsonObject,
    Post,
    Rejection,
    Target,
    TargetChanges,
)


@dataclass(frozen=True)
class KeyInfo:
    business_id: str
    key_id: str
    scopes: frozenset[str]
    # The public key that verifies events signed with this API key (herald.producerauth).
    event_key: str | None = None


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

    async def by_id(self, key_id: str) -> KeyInfo | None:
        """The same by key id alone, with its `event_key`: for a signed `post.submitted`."""
        ...


class Integrations(Protocol):
    def forget(self, integration_id: str) -> None:
        """Drop what is known of this integration (it changed); the next `get` asks again."""

    async def get(self, integration_id: str, business_id: str) -> IntegrationInfo | None:
        """The integration if it exists and belongs to the business, else None."""
        ...

    async def templates(
        self, integration_id: str, business_id: str, *, fresh: bool = False
    ) -> Sequence[RegisteredTemplate] | None:
        """A WhatsApp integration's registered templates, kept a while (`fresh`: asked of the
        platform again unless just asked); None when they cannot be listed now."""
        ...


@dataclass(frozen=True)
class Request:
    """What a `post.requested` carries to the publisher, as JSON: the post's content and the
    target's options (a batch's: its recipients)."""

    content: JsonObject
    options: JsonObject


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
    request: Request
    trace: TraceContext | None = None  # its post's: the dispatch continues that trace


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
    external_ref: str | None = None
    idempotency_key: str | None = None


class PostStore(Protocol):
    async def insert_post(self, post: Post) -> Post | None:
        """Insert; on a duplicate (business, idempotency key) return the existing post."""
        ...

    async def find_by_key(self, business_id: str, idempotency_key: str) -> Post | None: ...
    async def schedule_post(self, post_id: str, due_at: datetime) -> None:
        """A draft is a draft no more, due at `due_at`."""
        ...

    async def move_post(self, post_id: str, schedule: Schedule, due_at: datetime) -> None:
        """The post is due at `due_at` now (asked as `schedule`): its due day moves with it."""
        ...

    async def insert_targets(self, targets: Sequence[Target]) -> None: ...
    async def get_post(self, business_id: str, post_id: str) -> Post | None: ...
    async def delete_post(self, post: Post) -> None: ...
    async def list_posts(
        self, where: PostFilter, after: tuple[datetime, str] | None, limit: int
    ) -> list[Post]: ...
    async def targets_of(self, posts: Sequence[Post]) -> list[Target]:
        """Every target of these posts, ordered by index, a broadcast's batches included."""
        ...

    async def get_target(self, target_id: str) -> Target | None: ...
    async def update_target(self, target_id: str, changes: TargetChanges) -> None: ...
    async def add_history(self, entry: HistoryEntry) -> bool:
        """False when the entry (same id) was recorded before."""
        ...

    async def has_history(self, entry_id: str) -> bool: ...
    async def history_of(self, post_id: str, limit: int) -> list[HistoryEntry]: ...
    async def add_rejection(self, rejection: Rejection) -> None: ...


class DispatchStore(Protocol):
    async def add_pending(self, items: Sequence[PendingItem]) -> None: ...
    async def pending_before(self, moment: datetime, limit: int) -> list[PendingItem]: ...
    async def remove_pending(self, keys: Iterable[str]) -> None: ...
    async def claim(self, claims: Sequence[Claim]) -> set[str]:
        """Insert claims by unique id; the ids that were inserted (the others exist already)."""
        ...

    async def claims_for(self, target_id: str, epoch: int) -> list[Claim]: ...
    async def release(self, claim_ids: Iterable[str]) -> None: ...
    async def record_dispatches(self, dispatches: Sequence[DispatchFact]) -> None: ...
    async def dispatched(self, keys: Iterable[str]) -> set[str]:
        """Of `target:epoch` keys, those with a recorded dispatch."""
        ...

    async def dispatch_facts(self, target_ids: Sequence[str]) -> list[DispatchFact]: ...


class IntegrationView(Protocol):
    async def statuses(self, integration_ids: Iterable[str]) -> dict[str, IntegrationStatus]: ...
    async def lanes(self, integration_ids: Iterable[str]) -> dict[str, int]:
        """Each integration's lane where it has one (ADR 0025): its requests' partition."""
        ...

    async def remember(self, infos: Sequence[IntegrationInfo], at: datetime) -> None:
        """Record what auth-service just said, where it differs from what is known."""
        ...

    async def observe(self, info: IntegrationInfo, occurred_at: datetime) -> bool:
        """Record a status if newer than the one known; True if it was."""
        ...


class CampaignStore(Protocol):
    async def insert(self, campaign: Campaign) -> None: ...
    async def get(self, business_id: str, campaign_id: str) -> Campaign | None: ...
    async def for_business(self, business_id: str) -> list[Campaign]: ...
    async def active(self) -> list[Campaign]: ...
    async def end(self, campaign_id: str) -> None: ...
    async def record_pass(
        self, campaign_id: str, *, planned_until: datetime, at: datetime, problems: Sequence[str]
    ) -> None:
        """Posts exist up to `planned_until`, made by a pass at `at` that met `problems`."""
        ...


@dataclass(frozen=True)
class BroadcastItem:
    """A broadcast target waiting to be split into batches at its due time."""

    target_id: str
    epoch: int
    due_at: datetime
    post_id: str
    business_id: str
    integration_id: str
    index: int


class AudienceStore(Protocol):
    async def insert_audience(self, audience: Audience) -> None: ...
    async def get_audience(self, business_id: str, audience_id: str) -> Audience | None: ...
    async def list_audiences(
        self, business_id: str, after: str | None, limit: int
    ) -> list[Audience]: ...
    async def delete_audience(self, audience_id: str) -> None:
        """The audience and its contacts."""
        ...

    async def count_contacts(
        self, audience_ids: Sequence[str], *, opted_in_only: bool = False
    ) -> dict[str, int]:
        """Contacts by audience id (only those who agreed to messages, if `opted_in_only`)."""
        ...

    async def insert_contacts(self, contacts: Sequence[Contact]) -> set[int]:
        """Insert; the indexes of contacts whose phone the audience has already."""
        ...

    async def contacts_page(self, audience_id: str, after: str | None, limit: int) -> list[Contact]:
        """Contacts in phone order, after the phone `after`."""
        ...

    async def contacts_of(self, audience_id: str) -> list[Contact]: ...
    async def get_contact(self, audience_id: str, contact_id: str) -> Contact | None: ...
    async def delete_contact(self, contact_id: str) -> None: ...
    async def add_suppression(self, suppression: Suppression) -> bool:
        """False when this number had this flag already."""
        ...

    async def flags(self, business_id: str, phones: Sequence[str] | None) -> dict[str, set[str]]:
        """Suppression reasons by phone (of these phones, or all of the business's)."""
        ...


class RecipientStore(Protocol):
    async def enqueue(self, items: Sequence[BroadcastItem]) -> None: ...
    async def due(self, moment: datetime, limit: int) -> list[BroadcastItem]: ...
    async def dequeue(self, keys: Sequence[str]) -> None: ...
    async def add_recipients(self, recipients: Sequence[Recipient]) -> set[int]:
        """Insert; the indexes of recipients that existed (another expansion has them)."""
        ...

    async def recipients_of_parent(self, parent_target_id: str) -> list[Recipient]: ...
    async def recipients_of_targets(self, target_ids: Sequence[str]) -> list[Recipient]: ...
    async def recipients_of_post(self, post_id: str) -> list[Recipient]:
        """Without what each was sent (its components) nor its name."""
        ...

    async def recipients_page(
        self, post_id: str, after: str | None, limit: int
    ) -> list[Recipient]: ...
    async def get_recipient(self, key: str) -> Recipient | None: ...
    async def add_facts(self, facts: Sequence[RecordedFact]) -> set[int]:
        """Insert; the indexes of facts recorded before (duplicates)."""
        ...

    async def facts_for(self, keys: Sequence[str]) -> list[Fact]: ...
    async def facts_of_post(self, post_id: str) -> list[Fact]: ...
