"""Reading posts: one post with its targets, a filtered page of posts, a post's history.

The post's status is derived from its targets every time it is read (never cached), so it cannot
drift from them. A status filter is applied after that derivation; a page may then hold fewer
posts than asked while `next_cursor` still points further.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

from herald.topics import Platform
from scheduler.domain import dispatch_id
from scheduler.handlers.base import Deps, owned_post, status_of, with_states
from scheduler.handlers.delivery_reads import Deliveries, deliveries
from scheduler.handlers.submit import Submitted
from scheduler.models import (
    DispatchFact,
    HistoryEntry,
    JsonObject,
    Post,
    Role,
    Target,
    TargetState,
)
from scheduler.ports import PostFilter

SCAN_FACTOR = 4


@dataclass(frozen=True)
class PostWithTargets:
    post: Post
    targets: list[Target]
    deliveries: Deliveries = field(default_factory=Deliveries)

    @property
    def status(self) -> str:
        return status_of(self.targets)


@dataclass(frozen=True)
class Page:
    items: list[PostWithTargets]
    next_after: tuple[datetime, str] | None


async def read_post(deps: Deps, business_id: str, post_id: str) -> PostWithTargets:
    post = await owned_post(deps, business_id, post_id)
    targets = await with_states(deps, await deps.posts.targets_of([post]))
    targets.sort(key=lambda t: t.order)
    found = await deliveries(deps, post, targets)
    return PostWithTargets(post, found.honest(targets), found)


async def created_post(deps: Deps, submitted: Submitted) -> PostWithTargets:
    """The post a submission just created, from what it wrote (no read back), unless it has
    WhatsApp targets, whose deliveries are read."""
    targets = submitted.targets
    if targets is None or any(t.platform is Platform.WHATSAPP for t in targets):
        return await read_post(deps, submitted.post.business_id, submitted.post.id)
    return PostWithTargets(submitted.post, sorted(targets, key=lambda t: t.order))


async def list_posts(
    deps: Deps,
    where: PostFilter,
    *,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> Page:
    scan = limit if status is None else limit * SCAN_FACTOR
    posts = await deps.posts.list_posts(where, after, scan + 1)
    more = len(posts) > scan
    posts = posts[:scan]
    targets = await with_states(deps, await deps.posts.targets_of(posts))
    by_post: dict[str, list[Target]] = {}
    for target in targets:
        by_post.setdefault(target.post_id, []).append(target)
    items: list[PostWithTargets] = []
    last: Post | None = None
    for post in posts:
        last = post
        own = sorted(by_post.get(post.id, []), key=lambda t: t.order)
        if any(_may_be_undelivered(t) for t in own):  # its state depends on its deliveries
            own = (await deliveries(deps, post, own)).honest(own)
        item = PostWithTargets(post, own)
        if status is None or item.status == status:
            items.append(item)
        if len(items) == limit:
            more = more or post is not posts[-1]
            break
    next_after = (last.created_at, last.id) if more and last is not None else None
    return Page(items, next_after)


def _may_be_undelivered(target: Target) -> bool:
    return (
        target.platform is Platform.WHATSAPP
        and target.role is Role.TARGET
        and target.state is TargetState.PUBLISHED
    )


async def history(deps: Deps, business_id: str, post_id: str, *, limit: int) -> list[HistoryEntry]:
    """Everything that happened to the post, oldest first: submission, each dispatch, every
    result a publisher reported, cancels and retries."""
    post = await owned_post(deps, business_id, post_id)
    entries = await deps.posts.history_of(post_id, limit)
    targets = [t.id for t in await deps.posts.targets_of([post])]
    facts = await deps.dispatch.dispatch_facts(targets or list(post.target_ids))
    entries.extend(_dispatched(fact) for fact in facts)
    entries.sort(key=lambda e: e.at)
    return entries[:limit]


def _dispatched(fact: DispatchFact) -> HistoryEntry:
    """A dispatch fact as an entry of its post's history."""
    key = dispatch_id(fact.target_id, fact.epoch)
    detail: JsonObject = {
        "epoch": fact.epoch,
        "due_at": fact.due_at,
        "topic": fact.topic,
        "id": key,
    }
    if fact.broadcast is not None:
        detail["broadcast"] = asdict(fact.broadcast)
    return HistoryEntry(
        id=key,
        post_id=fact.post_id,
        target_id=fact.target_id,
        kind="post.expanded" if fact.broadcast is not None else "post.dispatched",
        at=fact.dispatched_at,
        detail=detail,
    )
