"""Recording, then telling: the scheduler's consumers record results and integration changes
through these, which tell the business what the record changed (ADR 0021)."""

from __future__ import annotations

from datetime import datetime

from herald.events import (
    IntegrationEvent,
    PostFailed,
    PostProgressed,
    PostPublished,
    PostRetryScheduled,
)
from scheduler.handlers import lifecycle
from scheduler.handlers.base import Deps

# What `post.results` carries about a target; a progress report is only noted (ADR 0018).
RESULTS = (PostPublished, PostFailed, PostRetryScheduled, PostProgressed)

# What recording a result answers when there is nothing to tell: no such target of the
# business, or a result from before a retry a person asked for.
SILENT = frozenset({"unknown_target", "stale"})


async def record_result(
    deps: Deps,
    result: PostPublished | PostFailed | PostRetryScheduled | PostProgressed,
    *,
    event_id: str,
    occurred_at: datetime,
) -> str:
    """`lifecycle.record_result`, then the notice of what it recorded; returns its effect.
    A target's progress (ADR 0018) is only noted on it: nothing to tell."""
    if isinstance(result, PostProgressed):
        return await lifecycle.record_progress(deps, result, occurred_at=occurred_at)
    effect, target = await lifecycle.record(
        deps, result, event_id=event_id, occurred_at=occurred_at
    )
    if deps.notices is not None and target is not None and effect not in SILENT:
        await deps.notices.result(result, event_id=event_id, target=target)
    return effect


async def record_integration(deps: Deps, event: IntegrationEvent, *, event_id: str) -> bool:
    """`lifecycle.record_integration`, then the notice (needs reconnecting, disconnected) and
    the connection's deadline for `integration.expiring`."""
    newer = await lifecycle.record_integration(deps, event)
    if deps.notices is not None:
        await deps.notices.integration(event, event_id=event_id)
    return newer
