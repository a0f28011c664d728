"""Campaigns: a named group of posts, optionally recurring (RRULE in a time zone).

A pass creates the posts of every occurrence up to `horizon` ahead, each through the normal
submission with the idempotency key `campaign:<id>:<occurrence>`, so passes may overlap, repeat
or run on several replicas at once and still create each post once. Occurrences missed by more
than `grace` (the service was down) are skipped and named, not published late in a burst.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import structlog

from herald.events import PostSubmitted, Violation
from scheduler.errors import Conflict, NotFound, Rejected, Unavailable
from scheduler.handlers.base import Deps
from scheduler.handlers.manage import cancel
from scheduler.handlers.submit import submit
from scheduler.models import Campaign, JsonObject
from scheduler.ports import PostFilter
from scheduler.recurrence import Recurrence, UnusableRecurrence, check_recurrence

log = structlog.get_logger(__name__)

CANCEL_PAGE = 100


@dataclass
class PassReport:
    campaigns: int = 0
    created: int = 0
    existing: int = 0
    rejected: int = 0
    skipped_late: int = 0
    errors: list[str] = field(default_factory=list)


async def create_campaign(
    deps: Deps,
    business_id: str,
    *,
    name: str,
    description: str | None,
    recurrence: Recurrence | None,
    template: JsonObject | None,
) -> Campaign:
    """A campaign, recurring with a recurrence (rule, zone, local start) and a post template
    (content, targets): both or neither."""
    violations: list[Violation] = []
    if (recurrence is None) != (template is None):
        message = "A recurring campaign needs both a recurrence and a post template."
        path = "template" if template is None else "recurrence"
        violations.append(Violation(path=path, message=message, code="required"))
    if recurrence is not None:  # CPU-bound (bounded): off the event loop
        violations.extend(
            await asyncio.to_thread(
                check_recurrence, recurrence.rule, recurrence.timezone, recurrence.starts_at
            )
        )
    if violations:
        raise Rejected(violations)
    campaign = Campaign(
        id=f"c_{uuid.uuid4().hex}",
        business_id=business_id,
        name=name,
        description=description,
        recurrence=recurrence,
        template=template,
        status="active",
        created_at=deps.clock(),
    )
    await deps.campaigns.insert(campaign)
    return campaign


async def owned_campaign(deps: Deps, business_id: str, campaign_id: str) -> Campaign:
    campaign = await deps.campaigns.get(business_id, campaign_id)
    if campaign is None:
        msg = f"no campaign {campaign_id} in this business"
        raise NotFound(msg)
    return campaign


@dataclass(frozen=True)
class Ended:
    campaign: Campaign
    cancelled_posts: int


async def end_campaign(
    deps: Deps, business_id: str, campaign_id: str, *, keep_posts: bool = False
) -> Ended:
    """End the campaign: no pass creates its posts any more, and the future posts it created
    are cancelled unless `keep_posts` (issue 16: ending left them scheduled)."""
    campaign = await owned_campaign(deps, business_id, campaign_id)
    if campaign.status == "ended":
        msg = "the campaign has ended already"
        raise Conflict(msg)
    await deps.campaigns.end(campaign_id)  # first, so that no later pass adds posts
    cancelled = 0 if keep_posts else await _cancel_future_posts(deps, campaign)
    log.info("campaign.ended", campaign_id=campaign_id, cancelled_posts=cancelled)
    return Ended(replace(campaign, status="ended"), cancelled)


async def _cancel_future_posts(deps: Deps, campaign: Campaign) -> int:
    """Cancel the posts the campaign's passes created that are due from now on; one due within
    seconds, already claimed by a dispatcher, goes out (`cancel` refuses it)."""
    where = PostFilter(
        business_id=campaign.business_id, campaign_id=campaign.id, due_from=deps.clock()
    )
    cancelled = 0
    after: tuple[datetime, str] | None = None
    while True:
        page = await deps.posts.list_posts(where, after, CANCEL_PAGE)
        for post in page:
            if post.source != "campaign":
                continue  # submitted into the campaign by hand: not the campaign's to cancel
            try:
                await cancel(deps, campaign.business_id, post.id)
            except Conflict:
                continue
            cancelled += 1
        if len(page) < CANCEL_PAGE:
            return cancelled
        after = (page[-1].created_at, page[-1].id)


async def run_pass(deps: Deps, *, horizon: timedelta, grace: timedelta) -> PassReport:
    report = PassReport()
    for campaign in await deps.campaigns.active():
        if campaign.recurrence is None:
            continue
        report.campaigns += 1
        await _plan(deps, campaign, campaign.recurrence, report, horizon=horizon, grace=grace)
    log.info("campaigns.pass", **{k: v for k, v in vars(report).items() if k != "errors"})
    return report


async def _plan(
    deps: Deps,
    campaign: Campaign,
    recurrence: Recurrence,
    report: PassReport,
    *,
    horizon: timedelta,
    grace: timedelta,
) -> None:
    now = deps.clock()
    planned = campaign.planned_until or campaign.created_at
    earliest = now - grace
    until = now + horizon
    try:
        missed, moments = await asyncio.to_thread(_expand, recurrence, planned, earliest, until)
    except UnusableRecurrence as unusable:  # a rule stored before today's checks: say why
        problem = f"the recurrence cannot be used: {unusable}"
        await deps.campaigns.record_pass(
            campaign.id, planned_until=planned, at=now, problems=[problem]
        )
        report.errors.append(f"{campaign.id}: {problem}")
        return
    report.skipped_late += missed
    problems: list[str] = []
    for moment in moments:
        try:
            submission = _submission(campaign, moment)
            # A late occurrence within the grace is published now, not refused as past.
            result = await submit(deps, submission, source="campaign", allow_past=True)
        except Rejected as rejected:
            report.rejected += 1
            problems.extend(
                f"{moment.isoformat()}: {v.path}: {v.message}" for v in rejected.violations
            )
            continue
        except Unavailable as exc:
            report.errors.append(f"{campaign.id}: {exc.message}")
            return  # leave planned_until where it is: the next pass tries the same occurrences
        if result.created:
            report.created += 1
        else:
            report.existing += 1
    await deps.campaigns.record_pass(
        campaign.id, planned_until=until, at=now, problems=problems[-20:]
    )


def _expand(
    recurrence: Recurrence, planned: datetime, earliest: datetime, until: datetime
) -> tuple[int, list[datetime]]:
    """(occurrences missed by more than the grace, those to create now): CPU-bound, bounded."""
    if planned >= earliest:
        return 0, recurrence.occurrences(planned, until)
    missed = len(recurrence.occurrences(planned, earliest))
    return missed, recurrence.occurrences(earliest, until)


def _submission(campaign: Campaign, moment: datetime) -> PostSubmitted:
    return PostSubmitted.model_validate(
        {
            **(campaign.template or {}),  # its content and targets
            "business_id": campaign.business_id,
            "idempotency_key": f"campaign:{campaign.id}:{moment.isoformat()}",
            "schedule": {"publish_at": moment},
            "campaign_id": campaign.id,
        }
    )
