"""Recording what happens to targets: results from publishers, integration changes, failures
the scheduler itself decides (an expired integration at dispatch time).

Every result is kept as history under its event id, so a redelivered result is recorded once;
then the target moves along the monotonic state machine (`scheduler.domain.advance`), so an
older or repeated result changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from herald.events import (
    FailureDetail,
    IntegrationEvent,
    PostFailed,
    PostPublished,
    PostRetryScheduled,
)
from scheduler.domain import Observation, TargetState, advance
from scheduler.handlers.base import Deps
from scheduler.ports import Doc, IntegrationInfo

log = structlog.get_logger(__name__)

Result = PostPublished | PostFailed | PostRetryScheduled


def observe(result: Result) -> Observation:
    data: dict[str, Any]
    if isinstance(result, PostPublished):
        data = {
            "platform_post_id": result.platform_post_id,
            "permalink": result.permalink,
            "published_at": result.published_at,
            "recipients": [r.model_dump(mode="json") for r in result.recipients] or None,
        }
        return Observation(TargetState.PUBLISHED, result.attempt, data)
    if isinstance(result, PostFailed):
        state = TargetState.FAILED if result.final else TargetState.RETRYING
        data = {"last_error": result.error.model_dump(mode="json"), "failed_at": result.failed_at}
        return Observation(state, result.attempt, data)
    error = result.error.model_dump(mode="json") if result.error else None
    data = {"last_error": error, "next_attempt_at": result.next_attempt_at}
    # A target counts the attempts used up: those before the one that runs next.
    return Observation(TargetState.RETRYING, result.next_attempt - 1, data)


async def record_result(deps: Deps, result: Result, *, event_id: str, occurred_at: datetime) -> str:
    """Record one result; returns what happened (for the log line and metrics)."""
    target = await deps.posts.get_target(result.target_id)
    if target is None or target["business_id"] != result.business_id:
        log.warning("result.unknown_target", target_id=result.target_id)
        return "unknown_target"
    seen = observe(result)
    stale = occurred_at < target["epoch_started_at"]
    await deps.posts.add_history(
        {
            "_id": f"event:{event_id}",
            "post_id": target["post_id"],
            "target_id": target["_id"],
            "kind": result.event_type.removeprefix("herald.").rsplit(".", 1)[0],
            "at": occurred_at,
            "recorded_at": deps.clock(),
            "epoch": target["epoch"],
            "detail": result.model_dump(mode="json", exclude={"content"}),
        }
    )
    if stale:
        return "stale"  # a result of an earlier epoch, before a person asked for a retry
    current = TargetState(target["state"])
    transition = advance(current, target.get("attempts", 0), target, seen)
    if not transition.changed:
        return "unchanged"
    await deps.posts.update_target(
        target["_id"], {**transition.changes, "updated_at": deps.clock()}
    )
    return transition.state.value


async def fail_target(
    deps: Deps, target_id: str, post_id: str, error: FailureDetail, *, kind: str
) -> None:
    """The scheduler itself ends a target as failed (it never reached a publisher)."""
    now = deps.clock()
    detail = error.model_dump(mode="json")
    await deps.posts.add_history(
        {
            "_id": f"{kind}:failed:{target_id}:{now.isoformat()}",
            "post_id": post_id,
            "target_id": target_id,
            "kind": "post.failed",
            "at": now,
            "recorded_at": now,
            "detail": {"error": detail, "final": True, "decided_by": "scheduler"},
        }
    )
    await deps.posts.update_target(
        target_id, {"state": TargetState.FAILED.value, "last_error": detail, "updated_at": now}
    )


async def record_integration(deps: Deps, event: IntegrationEvent) -> bool:
    deps.integrations.forget(event.integration_id)
    info = IntegrationInfo(
        integration_id=event.integration_id,
        business_id=event.business_id,
        platform=event.platform,
        status=event.status,
    )
    return await deps.view.observe(info, event.occurred_at)


def history_entry(post_id: str, entry: Doc) -> Doc:
    return {
        "at": entry["at"],
        "kind": entry["kind"],
        "target_id": entry.get("target_id"),
        "detail": entry.get("detail") or {},
        "post_id": post_id,
    }
