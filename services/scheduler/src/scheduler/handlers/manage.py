"""What a person does to a post after submitting it: cancel, retry failed targets, schedule or
delete a draft. Each answers with what it changed, or raises `Conflict` saying why it could not.
"""

from __future__ import annotations

from dataclasses import dataclass

from herald.events import PostSubmitted, Schedule
from scheduler.domain import TargetState, claim_id, dispatch_id, is_stale
from scheduler.errors import Conflict
from scheduler.handlers.base import Deps, owned_post, with_states
from scheduler.handlers.broadcasts import queue, with_requests
from scheduler.handlers.submit import pending_items, validate
from scheduler.ports import Claim, Doc


@dataclass(frozen=True)
class Changed:
    post: Doc
    target_ids: list[str]
    skipped: dict[str, str]  # target id → why it was left alone


async def cancel(deps: Deps, business_id: str, post_id: str) -> Changed:
    """Cancel every target not yet dispatched. A cancel takes the target's dispatch claim, so
    it can never cancel a target that a dispatcher is producing at the same moment."""
    post = await owned_post(deps, business_id, post_id)
    targets = await with_states(deps, await deps.posts.targets_of([post]))
    done, skipped = [], {}
    for target in targets:
        state = TargetState(target["state"])
        if state is TargetState.DRAFT or (
            state is TargetState.SCHEDULED and await _claim_for_cancel(deps, target)
        ):
            await _mark_cancelled(deps, target)
            done.append(target["_id"])
        else:
            skipped[target["_id"]] = _why_not(state)
    if not done:
        msg = "nothing to cancel: " + "; ".join(f"{t} {w}" for t, w in skipped.items())
        raise Conflict(msg)
    return Changed(post, done, skipped)


def _why_not(state: TargetState) -> str:
    if state is TargetState.SCHEDULED:
        return "is due within seconds and already claimed by a dispatcher"
    return f"is already {state.value}"


async def _claim_for_cancel(deps: Deps, target: Doc) -> bool:
    now = deps.clock()

    def claim(generation: int) -> Claim:
        return Claim(
            claim_id(target["_id"], target["epoch"], generation),
            target["_id"],
            target["epoch"],
            generation,
            "api",
            "cancel",
            now,
        )

    first = claim(0)
    if first.id in await deps.dispatch.claim([first]):
        return True
    claims = await deps.dispatch.claims_for(target["_id"], target["epoch"])
    newest = claims[0] if claims else None
    if newest is None or newest.kind == "cancel":
        return newest is not None
    key = dispatch_id(target["_id"], target["epoch"])
    held_since = max(newest.claimed_at, target["due_at"])
    if not is_stale(held_since, now, deps.lease_s) or await deps.dispatch.dispatched([key]):
        return False
    takeover = claim(newest.generation + 1)
    return takeover.id in await deps.dispatch.claim([takeover])


async def _mark_cancelled(deps: Deps, target: Doc) -> None:
    now = deps.clock()
    await deps.posts.update_target(
        target["_id"], {"state": TargetState.CANCELLED.value, "updated_at": now}
    )
    key = dispatch_id(target["_id"], target["epoch"])
    await deps.dispatch.remove_pending([key])
    await deps.recipients.dequeue([key])
    await deps.posts.add_history(
        {
            "_id": f"cancelled:{target['_id']}:{target['epoch']}",
            "post_id": target["post_id"],
            "target_id": target["_id"],
            "kind": "post.cancelled",
            "at": now,
            "detail": {"by": "api"},
        }
    )


async def retry(deps: Deps, business_id: str, post_id: str) -> Changed:
    """Schedule every failed target again, now, as a new dispatch epoch."""
    post = await owned_post(deps, business_id, post_id)
    targets = await deps.posts.targets_of([post])
    failed = [t for t in targets if t["state"] == TargetState.FAILED.value]
    if not failed:
        msg = "no failed targets to retry"
        raise Conflict(msg)
    now = deps.clock()
    renewed = []
    for target in failed:
        changes = {
            "state": TargetState.SCHEDULED.value,
            "epoch": target["epoch"] + 1,
            "epoch_started_at": now,
            "due_at": now,
            "last_error": None,
            "updated_at": now,
        }
        await deps.posts.update_target(target["_id"], changes)
        renewed.append({**target, **changes})
        await deps.posts.add_history(
            {
                "_id": f"retry:{target['_id']}:{changes['epoch']}",
                "post_id": post_id,
                "target_id": target["_id"],
                "kind": "post.retry_requested",
                "at": now,
                "detail": {"epoch": changes["epoch"], "previous_error": target.get("last_error")},
            }
        )
    ready = await with_requests(deps, post, renewed)
    await queue(deps, post, ready, pending_items(post, ready))
    skipped = {t["_id"]: f"is {t['state']}" for t in targets if t not in failed}
    return Changed(post, [t["_id"] for t in renewed], skipped)


async def schedule_draft(
    deps: Deps, business_id: str, post_id: str, schedule: Schedule | None
) -> Changed:
    """Turn a draft into a scheduled post, checking it again as a new submission would be."""
    post = await owned_post(deps, business_id, post_id)
    if not post["draft"]:
        msg = "only a draft can be scheduled; this post is scheduled already"
        raise Conflict(msg)
    now = deps.clock()
    chosen = schedule or Schedule.model_validate(post["schedule"])
    submission = PostSubmitted.model_validate(
        {**post, "schedule": chosen.model_dump(), "campaign_id": post.get("campaign_id")}
    )
    due = await validate(deps, submission, now)
    targets = await deps.posts.targets_of([post])
    renewed = []
    for target in targets:
        changes = {"state": TargetState.SCHEDULED.value, "due_at": due.due_at, "updated_at": now}
        await deps.posts.update_target(target["_id"], changes)
        renewed.append({**target, **changes})
    await deps.posts.update_post(post_id, {"draft": False, "due_at": due.due_at})
    post = {**post, "draft": False, "due_at": due.due_at}
    await queue(deps, post, renewed, pending_items(post, renewed))
    return Changed(post, [t["_id"] for t in renewed], {})


async def delete_draft(deps: Deps, business_id: str, post_id: str) -> None:
    post = await owned_post(deps, business_id, post_id)
    if not post["draft"]:
        msg = "only a draft can be deleted; cancel a scheduled post instead"
        raise Conflict(msg)
    await deps.posts.delete_post(post)
