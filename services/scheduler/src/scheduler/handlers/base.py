"""What every use case is given (the ports, topic names and a clock) and the shared reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from herald.emitter import EventEmitter
from herald.rules import DEFAULT_LIMITS, Limits
from herald.topics import TopicNames
from scheduler.domain import dispatch_id, effective_state, post_status
from scheduler.errors import NotFound
from scheduler.models import Post, Role, Target, TargetState
from scheduler.ports import (
    AudienceStore,
    CampaignStore,
    DispatchStore,
    Integrations,
    IntegrationView,
    PendingItem,
    PostStore,
    RecipientStore,
)
from scheduler.webhooks.ports import Notices


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ignore(_: Sequence[PendingItem]) -> None:
    return None


def _nothing() -> None:
    return None


@dataclass
class Deps:
    posts: PostStore
    dispatch: DispatchStore
    view: IntegrationView
    integrations: Integrations
    campaigns: CampaignStore
    audiences: AudienceStore
    recipients: RecipientStore
    emitter: EventEmitter
    names: TopicNames
    clock: Callable[[], datetime] = utcnow
    lease_s: float = 30.0  # how long a dispatch claim holds before another may take it over
    # Tells this replica's dispatcher about new work at once; other replicas find it by polling.
    notify: Callable[[Sequence[PendingItem]], None] = field(default=_ignore)
    # The content rules submissions are checked against (settings may loosen them for tests).
    limits: Limits = DEFAULT_LIMITS
    # Recipients per `post.requested.whatsapp` of a broadcast (N).
    batch_size: int = 100
    # Tells this replica's expander a broadcast was queued; other replicas find it by polling.
    notify_broadcast: Callable[[], None] = field(default=_nothing)
    # What the business is told (post accepted, target results, ...): scheduler.webhooks.
    notices: Notices | None = None


async def owned_post(deps: Deps, business_id: str, post_id: str) -> Post:
    post = await deps.posts.get_post(business_id, post_id)
    if post is None:
        msg = f"no post {post_id} in this business"
        raise NotFound(msg)
    return post


async def with_states(deps: Deps, targets: list[Target]) -> list[Target]:
    """Targets with `state` as a reader should see it: a stored `scheduled` with a recorded
    dispatch reads `dispatched` (the dispatcher records dispatches as separate facts)."""
    keys = [dispatch_id(t.id, t.epoch) for t in targets if t.state is TargetState.SCHEDULED]
    done = await deps.dispatch.dispatched(keys)
    return [
        replace(t, state=effective_state(t.state, dispatch_id(t.id, t.epoch) in done))
        for t in targets
    ]


def status_of(targets: list[Target]) -> str:
    """The post's status over the targets that carry it: once a broadcast target is expanded
    (it reads `dispatched`), its batches stand for it."""
    counted = [
        t for t in targets if not (t.role is Role.BROADCAST and t.state is TargetState.DISPATCHED)
    ]
    return post_status([t.state for t in counted]).value
