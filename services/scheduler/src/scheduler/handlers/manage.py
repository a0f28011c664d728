"""What a person does to a post after submitting it: cancel, retry failed targets, schedule or
delete a draft. Each answers with what it changed, or raises `Conflict` saying why it could not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from herald.events import PostSubmitted, Schedule
from scheduler.domain import claim_id, dispatch_id, is_stale
from scheduler.errors import Conflict
from scheduler.handlers.base import Deps, owned_post, with_states
from scheduler.handlers.broadcasts import queue, with_requests
from scheduler.handlers.submit import pending_items, validate
from scheduler.models import HistoryEntry, Post, Target, TargetChanges, TargetState
from scheduler.ports import Claim


@dataclass(frozen=True)
class Changed:
    post: Post
    target_ids: list[str]
    skipped: dict[str, str]  # target id → why it was left alone


async def cancel(deps: Deps, business_id: str, post_id: str) -> Changed:
    """Cancel every target not yet dispatched. A cancel takes the target's dispatch claim, so
    it can never cancel a target that a dispatcher is producing at the same moment."""
    post = await owned_post(deps, business_id, post_id)
    targets = await with_states(deps, await deps.posts.targets_of([post]))
    done, skipped = [], {}
    for target in targets:
        state = target.state
        if state is TargetState.DRAFT or (
            state is TargetState.SCHEDULED and await _claim_for_cancel(deps, target)
        ):
            await _mark_cancelled(deps, target)
            done.append(target.id)
        else:
            skipped[target.id] = _why_not(state)
    if not done:
        msg = "nothing to cancel: " + "; ".join(f"{t} {w}" for t, w in skipped.items())
        raise Conflict(msg)
    if deps.notices is not None:  # a post whose every target ended is told finished
        await deps.notices.cancelled(post)
    return Changed(post, done, skipped)


def _why_not(state: TargetState) -> str:
    if state is TargetState.SCHEDULED:
        return "is due within seconds and already claimed by a dispatcher"
    return f"is already {state.value}"


async def _claim_for_cancel(deps: Deps, target: Target) -> bool:
    now = deps.clock()

    def claim(generation: int) -> Claim:
        cid = claim_id(target.id, target.epoch, generation)
        return Claim(cid, target.id, target.epoch, generation, "api", "cancel", now)

    first = claim(0)
    if first.id in await deps.dispatch.claim([first]):
        return True
    claims = await deps.dispatch.claims_for(target.id, target.epoch)
    newest = claims[0] if claims else None
    if newest is None or newest.kind == "cancel":
        return newest is not None
    key = dispatch_id(target.id, target.epoch)
    held_since = max(newest.claimed_at, target.due_at)
    if not is_stale(held_since, now, deps.lease_s) or await deps.dispatch.dispatched([key]):
        return False
    takeover = claim(newest.generation + 1)
    return takeover.id in await deps.dispatch.claim([takeover])


async def _mark_cancelled(deps: Deps, target: Target) -> None:
    now = deps.clock()
    changes = TargetChanges(state=TargetState.CANCELLED, updated_at=now)
    await deps.posts.update_target(target.id, changes)
    key = dispatch_id(target.id, target.epoch)
    await deps.dispatch.remove_pending([key])
    await deps.recipients.dequeue([key])
    await deps.posts.add_history(
        HistoryEntry(
            id=f"cancelled:{target.id}:{target.epoch}",
            post_id=target.post_id,
            target_id=target.id,
            kind="post.cancelled",
            at=now,
            detail={"by": "api"},
        )
    )


async def retry(deps: Deps, business_id: str, post_id: str) -> Changed:
    """Schedule every failed target again, now, as a new dispatch epoch."""
    post = await owned_post(deps, business_id, post_id)
    targets = await deps.posts.targets_of([post])
    failed = [t for t in targets if t.state is TargetState.FAILED]
    if not failed:
        msg = "no failed targets to retry"
        raise Conflict(msg)
    now = deps.clock()
    renewed = []
    for target in failed:
        epoch = target.epoch + 1
        changes = TargetChanges(
            state=TargetState.SCHEDULED,
            epoch=epoch,
            epoch_started_at=now,
            due_at=now,
            last_error=None,
            updated_at=now,
        )
        await deps.posts.update_target(target.id, changes)
        renewed.append(changes.applied(target))
        previous = target.last_error.model_dump(mode="json") if target.last_error else None
        await deps.posts.add_history(
            HistoryEntry(
                id=f"retry:{target.id}:{epoch}",
                post_id=post_id,
                target_id=target.id,
                kind="post.retry_requested",
                at=now,
                detail={"epoch": epoch, "previous_error": previous},
            )
        )
    ready = await with_requests(deps, post, renewed)
    await queue(deps, post, ready, pending_items(post, ready))
    skipped = {t.id: f"is {t.state.value}" for t in targets if t not in failed}
    return Changed(post, [t.id for t in renewed], skipped)


async def schedule_draft(
    deps: Deps, business_id: str, post_id: str, schedule: Schedule | None
) -> Changed:
    """Turn a draft into a scheduled post, checking it again as a new submission would be."""
    post = await owned_post(deps, business_id, post_id)
    if not post.draft:
        msg = "only a draft can be scheduled; this post is scheduled already"
        raise Conflict(msg)
    now = deps.clock()
    submission = PostSubmitted.model_validate(
        {
            "business_id": post.business_id,
            "idempotency_key": post.idempotency_key,
            "content": post.content,
            "targets": [
                {"integration_id": t.integration_id, "platform": t.platform, "options": t.options}
                for t in post.targets
            ],
            "schedule": schedule or post.schedule,
            "campaign_id": post.campaign_id,
            "external_ref": post.external_ref,
        }
    )
    due = await validate(deps, submission, now)
    targets = await deps.posts.targets_of([post])
    renewed = []
    for target in targets:
        changes = TargetChanges(state=TargetState.SCHEDULED, due_at=due.due_at, updated_at=now)
        await deps.posts.update_target(target.id, changes)
        renewed.append(changes.applied(target))
    await deps.posts.schedule_post(post_id, due.due_at)
    post = replace(post, draft=False, due_at=due.due_at)
    await queue(deps, post, renewed, pending_items(post, renewed))
    return Changed(post, [t.id for t in renewed], {})


async def delete_draft(deps: Deps, business_id: str, post_id: str) -> None:
    post = await owned_post(deps, business_id, post_id)
    if not post.draft:
        msg = "only a draft can be deleted; cancel a scheduled post instead"
        raise Conflict(msg)
    await deps.posts.delete_post(post)
