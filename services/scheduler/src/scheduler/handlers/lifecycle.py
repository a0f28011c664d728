"""Recording what happens to targets: results from publishers, integration changes, failures
the scheduler itself decides (an expired integration at dispatch time).

Every result is kept as history under its event id, so a redelivered result is recorded once;
then the target moves along the monotonic state machine (`scheduler.domain.advance`), so an
older or repeated result changes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import structlog

from herald.events import (
    FailureDetail,
    IntegrationEvent,
    PostFailed,
    PostProgressed,
    PostPublished,
    PostRetryScheduled,
)
from scheduler.domain import TERMINAL, Observation, Reported, advance
from scheduler.handlers.base import Deps
from scheduler.models import HistoryEntry, JsonObject, Target, TargetChanges, TargetState
from scheduler.ports import IntegrationInfo

log = structlog.get_logger(__name__)

Result = PostPublished | PostFailed | PostRetryScheduled


def observe(result: Result) -> Observation:
    if isinstance(result, PostPublished):
        outcomes = tuple(r.model_dump(mode="json") for r in result.recipients)
        data = Reported(
            platform_post_id=result.platform_post_id,
            permalink=result.permalink,
            published_at=result.published_at,
            outcomes=outcomes or None,
        )
        return Observation(TargetState.PUBLISHED, result.attempt, data)
    if isinstance(result, PostFailed):
        state = TargetState.FAILED if result.final else TargetState.RETRYING
        data = Reported(last_error=result.error, failed_at=result.failed_at)
        return Observation(state, result.attempt, data)
    data = Reported(last_error=result.error, next_attempt_at=result.next_attempt_at)
    # A target counts the attempts used up: those before the one that runs next.
    return Observation(TargetState.RETRYING, result.next_attempt - 1, data)


async def record_result(deps: Deps, result: Result, *, event_id: str, occurred_at: datetime) -> str:
    """Record one result; returns what happened (for the log line and metrics)."""
    effect, _ = await record(deps, result, event_id=event_id, occurred_at=occurred_at)
    return effect


async def record(
    deps: Deps, result: Result, *, event_id: str, occurred_at: datetime
) -> tuple[str, Target | None]:
    """Record one result; returns what happened and the target as this result left it (what
    the business's notice tells, without reading it again), None for a target not found."""
    target = await deps.posts.get_target(result.target_id)
    if target is None or target.business_id != result.business_id:
        log.warning("result.unknown_target", target_id=result.target_id)
        return "unknown_target", None
    seen = observe(result)
    stale = occurred_at < target.epoch_started_at
    await deps.posts.add_history(
        HistoryEntry(
            id=f"event:{event_id}",
            post_id=target.post_id,
            target_id=target.id,
            kind=result.event_type.removeprefix("herald.").rsplit(".", 1)[0],
            at=occurred_at,
            recorded_at=deps.clock(),
            epoch=target.epoch,
            detail=result.model_dump(mode="json", exclude={"content"}),
        )
    )
    if stale:
        return "stale", target  # of an earlier epoch, before a person asked for a retry
    transition = advance(target, seen)
    if not transition.changed:
        return "unchanged", target
    changes = replace(transition.changes, updated_at=deps.clock())
    await deps.posts.update_target(target.id, changes)
    return transition.state.value, changes.applied(target)


async def record_progress(deps: Deps, progressed: PostProgressed, *, occurred_at: datetime) -> str:
    """Note the stage a target's platform flow is in (ADR 0018). Only an unfinished target of
    the current epoch takes it, and only a newer report than the one it holds: the state
    machine is not touched, and a late report never shows after the outcome."""
    target = await deps.posts.get_target(progressed.target_id)
    if target is None or target.business_id != progressed.business_id:
        return "unknown_target"
    if target.state in TERMINAL or occurred_at < target.epoch_started_at:
        return "stale"
    held = (target.stage or {}).get("at")
    reported = progressed.reported_at
    reported = reported.replace(microsecond=reported.microsecond // 1000 * 1000)  # as stored
    if isinstance(held, datetime) and _aware(held) >= reported:
        return "unchanged"
    stage: JsonObject = {
        "stage": progressed.stage.value,
        "detail": progressed.detail,
        "bytes_sent": progressed.bytes_sent,
        "bytes_total": progressed.bytes_total,
        "at": progressed.reported_at,
    }
    await deps.posts.update_target(target.id, TargetChanges(stage=stage))
    return f"stage_{progressed.stage.value}"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def fail_target(
    deps: Deps, target_id: str, post_id: str, error: FailureDetail, *, kind: str
) -> None:
    """The scheduler itself ends a target as failed (it never reached a publisher)."""
    now = deps.clock()
    await deps.posts.add_history(
        HistoryEntry(
            id=f"{kind}:failed:{target_id}:{now.isoformat()}",
            post_id=post_id,
            target_id=target_id,
            kind="post.failed",
            at=now,
            recorded_at=now,
            detail={
                "error": error.model_dump(mode="json"),
                "final": True,
                "decided_by": "scheduler",
            },
        )
    )
    changes = TargetChanges(state=TargetState.FAILED, last_error=error, updated_at=now)
    await deps.posts.update_target(target_id, changes)
    if deps.notices is not None:  # the business is told, as of a publisher's failure
        await deps.notices.failed_here(target_id)


async def record_integration(deps: Deps, event: IntegrationEvent) -> bool:
    deps.integrations.forget(event.integration_id)
    info = IntegrationInfo(
        integration_id=event.integration_id,
        business_id=event.business_id,
        platform=event.platform,
        status=event.status,
    )
    return await deps.view.observe(info, event.occurred_at)
