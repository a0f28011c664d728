"""Move a scheduled post to another time (issue 22: the calendar's *Reschedule*).

Only a post whose every target still waits (stored `scheduled`, no dispatch recorded) moves, and
the new time passes the checks a new submission passes (`submit.validate`: a time in the past,
the campaign, the accounts). The move is safe against a dispatcher taking the post at the same
moment without any atomic update (docs/adr/0006-scheduler-dispatch-and-state.md):

1. the current epoch of each target is claimed as a cancel, by inserting its dispatch claim (the
   compare-and-set every replica already obeys: a dispatcher or expander that finds a cancel
   claim never sends that epoch). A claim a dispatcher holds already (the post is due within
   seconds) makes the move fail with 409, and the claims this call took are let go again;
2. each target opens the next epoch at the new time and is queued under it, and the old queue
   rows go;
3. last, the post's `due_at` and `due_day` move, so listings and the calendar show the new day.

A crash between steps leaves the post unsent but never sent twice; asking again finishes the
move (a cancel claim of an earlier reschedule counts as this call's own).
"""

from __future__ import annotations

from dataclasses import replace

import structlog

from herald.events import PostSubmitted, Schedule, Violation
from scheduler.domain import DueTime, claim_id, dispatch_id, is_stale
from scheduler.errors import Conflict, Rejected
from scheduler.handlers.base import Deps, owned_post, with_states
from scheduler.handlers.broadcasts import queue, with_requests
from scheduler.handlers.manage import Changed
from scheduler.handlers.submit import pending_items, validate
from scheduler.models import HistoryEntry, Post, Target, TargetChanges, TargetState
from scheduler.ports import Claim

log = structlog.get_logger(__name__)

OWNER = "reschedule"  # whose cancel claims these are: an interrupted move may go on with them


async def reschedule(deps: Deps, business_id: str, post_id: str, schedule: Schedule) -> Changed:
    """Move every target of a scheduled post to `schedule`'s time, or raise `Conflict` (the
    post is a draft, or a target is no longer waiting) or `Rejected` (the new time)."""
    post = await owned_post(deps, business_id, post_id)
    if post.draft:
        msg = "a draft has no time yet: schedule it (POST /v1/posts/{post_id}/schedule)"
        raise Conflict(msg)
    targets = await with_states(deps, await deps.posts.targets_of([post]))
    gone = [t for t in targets if t.state is not TargetState.SCHEDULED]
    if gone:
        why = "; ".join(f"{t.id} is {t.state.value}" for t in gone)
        msg = f"only a post whose every target is still scheduled can move: {why}"
        raise Conflict(msg)
    await _campaign_still_running(deps, post)
    now = deps.clock()
    due = await _checked(deps, post, schedule)
    await _withdraw_all(deps, targets)
    moved = []
    for target in targets:
        epoch = target.epoch + 1
        changes = TargetChanges(
            epoch=epoch, epoch_started_at=now, due_at=due.due_at, updated_at=now
        )
        await deps.posts.update_target(target.id, changes)
        moved.append(changes.applied(target))
        await deps.posts.add_history(
            HistoryEntry(
                id=f"rescheduled:{target.id}:{epoch}",
                post_id=post.id,
                target_id=target.id,
                kind="post.rescheduled",
                at=now,
                detail={"epoch": epoch, "from": target.due_at, "to": due.due_at},
            )
        )
    asked = Schedule(publish_at=due.requested_at, timezone=due.timezone)
    post = replace(post, schedule=asked, due_at=due.due_at)
    ready = await with_requests(deps, post, moved)
    await queue(deps, post, ready, pending_items(post, ready))
    old = [dispatch_id(t.id, t.epoch) for t in targets]
    await deps.dispatch.remove_pending(old)
    await deps.recipients.dequeue(old)
    await deps.posts.move_post(post.id, asked, due.due_at)
    log.info("post.rescheduled", post_id=post.id, due_at=due.due_at.isoformat())
    return Changed(post, [t.id for t in moved], {})


async def _checked(deps: Deps, post: Post, schedule: Schedule) -> DueTime:
    """The new due time, checked as a new submission of the post at that time would be. The
    schedule's problems are named by this route's own fields (`publish_at`, `timezone`)."""
    submission = PostSubmitted.model_validate(
        {
            "business_id": post.business_id,
            "idempotency_key": post.idempotency_key,
            "content": post.content,
            "targets": [
                {"integration_id": t.integration_id, "platform": t.platform, "options": t.options}
                for t in post.targets
            ],
            "schedule": schedule,
            "campaign_id": post.campaign_id,
            "external_ref": post.external_ref,
        }
    )
    try:
        return await validate(deps, submission, deps.clock())
    except Rejected as exc:
        raise Rejected([_named(v) for v in exc.violations]) from exc


def _named(violation: Violation) -> Violation:
    if violation.path.startswith("schedule."):
        return violation.model_copy(update={"path": violation.path.removeprefix("schedule.")})
    return violation


async def _campaign_still_running(deps: Deps, post: Post) -> None:
    if post.campaign_id is None:
        return
    campaign = await deps.campaigns.get(post.business_id, post.campaign_id)
    if campaign is not None and campaign.status == "ended":
        msg = (
            f"the campaign {campaign.name!r} has ended: its posts keep their times; cancel this "
            "one, or compose a new post outside the campaign"
        )
        raise Conflict(msg)


async def _withdraw_all(deps: Deps, targets: list[Target]) -> None:
    """Claim every target's current epoch as a cancel, or none: one a dispatcher holds already
    refuses the move, and the claims taken so far are let go (ours alone: no one else can hold
    those ids, so deleting them races with no one)."""
    taken: list[str] = []
    for target in targets:
        claim, problem = await _withdraw(deps, target)
        if claim is not None:
            taken.append(claim)
        if problem is not None:
            await deps.dispatch.release(taken)
            msg = f"the post cannot move now: {target.id} {problem}"
            raise Conflict(msg)


SENDING = "is due within seconds and a dispatcher is sending it; it goes out at its time"


async def _withdraw(deps: Deps, target: Target) -> tuple[str | None, str | None]:
    """The claim this call inserted to withdraw the target's epoch (None: an interrupted move
    holds it already, or it could not be taken), and why the epoch cannot be withdrawn."""
    now = deps.clock()

    def claim(generation: int) -> Claim:
        cid = claim_id(target.id, target.epoch, generation)
        return Claim(cid, target.id, target.epoch, generation, OWNER, "cancel", now)

    first = claim(0)
    if first.id in await deps.dispatch.claim([first]):
        return first.id, None
    claims = await deps.dispatch.claims_for(target.id, target.epoch)
    newest = claims[0] if claims else None
    if newest is None:  # its holder let it go a moment ago (a failed produce): it is resent
        return None, SENDING
    if newest.kind == "cancel":  # an interrupted move's own, or a cancel's (not ours to undo)
        return None, None if newest.owner == OWNER else "is being cancelled"
    held_since = max(newest.claimed_at, target.due_at)
    key = dispatch_id(target.id, target.epoch)
    if not is_stale(held_since, now, deps.lease_s) or await deps.dispatch.dispatched([key]):
        return None, SENDING
    takeover = claim(newest.generation + 1)
    if takeover.id in await deps.dispatch.claim([takeover]):
        return takeover.id, None
    return None, SENDING
