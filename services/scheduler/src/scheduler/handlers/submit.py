"""Submit a post (REST API, `post.submitted`, or a campaign): validate, store, queue for dispatch.

Steps, each safe to repeat: (1) content rules (`herald.rules`), the schedule and auth-service's
view of every integration are checked and every violation is reported at once; (2) the post is
inserted, and the unique index on business and idempotency key decides whether it is new: a key
already taken answers with the post holding it (a replay), finishing its creation if a crash
interrupted it; (3) then its targets, their queue entries, and last its `created:` history entry,
which marks it complete. A new post costs no read; a replay that no longer passes the checks (its
time has passed, auth-service is away) is still answered with its post.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from herald.content import WhatsAppOptions, default_options
from herald.events import IntegrationStatus, PostSubmitted, Schedule, Violation
from herald.rules import check_submission
from herald.topics import Platform
from herald.tracing import TraceContext
from herald.whatsapp_registry import check_template_use
from scheduler.domain import (
    PAST_SKEW,
    DueTime,
    request_fingerprint,
    resolve_schedule,
    target_id,
)
from scheduler.errors import Conflict, Rejected, Unavailable
from scheduler.handlers.base import Deps
from scheduler.handlers.broadcasts import check_broadcasts, queue, record_direct_recipients
from scheduler.models import HistoryEntry, Post, Target, TargetSpec, TargetState
from scheduler.ports import IntegrationInfo, PendingItem, Request

UNUSABLE = {IntegrationStatus.EXPIRED, IntegrationStatus.DISCONNECTED}


@dataclass(frozen=True)
class Submitted:
    post: Post
    created: bool
    targets: list[Target] | None = None  # as stored, when this call created them


async def submit(
    deps: Deps,
    submission: PostSubmitted,
    *,
    source: str,
    draft: bool = False,
    source_event_id: str | None = None,
    allow_past: bool = False,
) -> Submitted:
    """Accept `submission` or raise `Rejected` (every violation) or `Conflict` (key reuse).
    `source_event_id`: the CloudEvents id of the `post.submitted` it came in, for correlation."""
    fingerprint = request_fingerprint(
        {"submission": submission.model_dump(mode="json"), "draft": draft}
    )
    now = deps.clock()
    try:
        due = await validate(deps, submission, now, allow_past=allow_past)
    except (Rejected, Unavailable):
        known = await deps.posts.find_by_key(submission.business_id, submission.idempotency_key)
        if known is None:
            raise
        return await _replay(deps, known, fingerprint)
    post = new_post(
        submission,
        due,
        fingerprint,
        source=source,
        draft=draft,
        now=now,
        trace=TraceContext.current(),
    )
    post = replace(post, source_event_id=source_event_id)
    raced = await deps.posts.insert_post(post)
    if raced is not None:
        return await _replay(deps, raced, fingerprint)
    targets = await _finish(deps, post)
    return Submitted(post, created=True, targets=targets)


async def validate(
    deps: Deps, submission: PostSubmitted, now: datetime, *, allow_past: bool = False
) -> DueTime:
    """The due time, or `Rejected` with every content, schedule and integration violation.
    `allow_past`: a publish time well in the past means now (a campaign's late occurrence)."""
    violations = list(check_submission(submission, limits=deps.limits))
    due = resolve_schedule(submission.schedule, now, past_skew=None if allow_past else PAST_SKEW)
    if isinstance(due, list):
        violations.extend(due)
    if submission.campaign_id is not None:
        campaign = await deps.campaigns.get(submission.business_id, submission.campaign_id)
        if campaign is None:
            message = f"No campaign {submission.campaign_id} in this business."
            violations.append(Violation(path="campaign_id", message=message, code="not_found"))
    violations.extend(await _check_integrations(deps, submission, now))
    violations.extend(await _check_templates(deps, submission))
    violations.extend(await check_broadcasts(deps, submission))
    if violations or isinstance(due, list):
        raise Rejected(violations)
    return due


async def _check_integrations(
    deps: Deps, submission: PostSubmitted, now: datetime
) -> list[Violation]:
    ids = [t.integration_id for t in submission.targets]
    infos = await asyncio.gather(*(deps.integrations.get(i, submission.business_id) for i in ids))
    found: list[Violation] = []
    for index, (target, info) in enumerate(zip(submission.targets, infos, strict=True)):
        path = f"targets[{index}]"
        if ids.index(target.integration_id) != index:
            message = "This integration is already a target of this post."
            found.append(
                Violation(path=f"{path}.integration_id", message=message, code="duplicate")
            )
        elif info is None:
            message = (
                f"No integration {target.integration_id} in this business; connect the account "
                "first, then use the id auth-service gives it."
            )
            found.append(
                Violation(path=f"{path}.integration_id", message=message, code="not_found")
            )
        else:
            found.extend(_check_one(path, target.platform, info))
    await deps.view.remember([i for i in infos if i is not None], now)
    return found


async def _check_templates(deps: Deps, submission: PostSubmitted) -> list[Violation]:
    """Each WhatsApp template message against its account's registered templates (ADR 0018):
    what WhatsApp would refuse at send (132001, 132000) is refused now. A copy that finds a
    problem is asked again once, in case the template was approved or edited since."""
    found: list[Violation] = []
    for index, target in enumerate(submission.targets):
        options = target.options
        if not isinstance(options, WhatsAppOptions) or options.template is None:
            continue
        path, iid = f"targets[{index}].options", target.integration_id
        registered = await deps.integrations.templates(iid, submission.business_id)
        if registered is None:
            continue  # not listable now: the send still catches it
        problems = check_template_use(options, registered, path)
        if problems:
            again = await deps.integrations.templates(iid, submission.business_id, fresh=True)
            problems = problems if again is None else check_template_use(options, again, path)
        found.extend(problems)
    return found


def _check_one(path: str, platform: Platform, info: IntegrationInfo) -> list[Violation]:
    if info.platform is not platform:
        message = (
            f"Integration {info.integration_id} is a {info.platform.value} account, "
            f"not {platform.value}."
        )
        return [Violation(path=f"{path}.platform", message=message, code="wrong_platform")]
    if info.status in UNUSABLE:
        name = info.account_name or info.integration_id
        message = (
            f"The {info.platform.value} account {name} is {info.status.value}: reconnect it "
            "in Herald (Integrations → Reconnect), then submit again."
        )
        return [Violation(path=f"{path}.integration_id", message=message, code="needs_reauth")]
    return []


async def _replay(deps: Deps, post: Post, fingerprint: str) -> Submitted:
    if post.fingerprint != fingerprint:
        msg = (
            f"idempotency key {post.idempotency_key!r} was used for a different post "
            f"({post.id}); use a new key for new content"
        )
        raise Conflict(msg)
    if not await deps.posts.has_history(_created_entry(post)):
        await _finish(deps, post)
    return Submitted(post, created=False)


async def _finish(deps: Deps, post: Post) -> list[Target]:
    targets = new_targets(post)
    await deps.posts.insert_targets(targets)
    await record_direct_recipients(deps, post, targets)
    if not post.draft:
        await queue(deps, post, targets, pending_items(post, targets))
    if deps.notices is not None:  # before the last step: a retry that finishes it tells again
        await deps.notices.accepted(post, targets)
    await deps.posts.add_history(  # last: its presence says the post is complete
        HistoryEntry(
            id=_created_entry(post),
            post_id=post.id,
            target_id=None,
            kind="post.draft_saved" if post.draft else "post.scheduled",
            at=post.created_at,
            detail={"due_at": post.due_at, "source": post.source},
        )
    )
    return targets


def _created_entry(post: Post) -> str:
    return f"created:{post.id}"


def new_post(
    submission: PostSubmitted,
    due: DueTime,
    fingerprint: str,
    *,
    source: str,
    draft: bool,
    now: datetime,
    trace: TraceContext | None = None,
) -> Post:
    post_id = f"p_{uuid.uuid4().hex}"
    targets = tuple(
        TargetSpec(
            integration_id=t.integration_id,
            platform=t.platform,
            options=(t.options or default_options(t.platform)).model_dump(mode="json"),
        )
        for t in submission.targets
    )
    return Post(
        id=post_id,
        business_id=submission.business_id,
        idempotency_key=submission.idempotency_key,
        fingerprint=fingerprint,
        source=source,
        content=submission.content.model_dump(mode="json"),
        targets=targets,
        schedule=Schedule(publish_at=due.requested_at, timezone=due.timezone),
        due_at=due.due_at,
        draft=draft,
        target_ids=tuple(target_id(post_id, i) for i in range(len(targets))),
        created_at=now,
        campaign_id=submission.campaign_id,
        external_ref=submission.external_ref,
        trace=trace,
    )


def new_targets(post: Post) -> list[Target]:
    state = TargetState.DRAFT if post.draft else TargetState.SCHEDULED
    return [
        Target(
            id=target_id(post.id, index),
            post_id=post.id,
            business_id=post.business_id,
            index=index,
            role=spec.role,
            integration_id=spec.integration_id,
            platform=spec.platform,
            due_at=post.due_at,
            epoch=1,
            epoch_started_at=post.created_at,
            state=state,
            updated_at=post.created_at,
        )
        for index, spec in enumerate(post.targets)
    ]


def pending_item(post: Post, target: Target) -> PendingItem:
    options = target.options or post.targets[target.index].options  # a batch: its recipients
    return PendingItem(
        target_id=target.id,
        epoch=target.epoch,
        due_at=target.due_at,
        post_id=post.id,
        business_id=post.business_id,
        integration_id=target.integration_id,
        platform=target.platform,
        request=Request(content=post.content, options=options),
        trace=post.trace,
    )


def pending_items(post: Post, targets: Sequence[Target]) -> list[PendingItem]:
    return [pending_item(post, t) for t in targets]
