"""Campaigns: a named group of posts, optionally recurring (RRULE in a time zone).

A pass creates the posts of every occurrence up to `horizon` ahead, each through the normal
submission with the idempotency key `campaign:<id>:<occurrence>`, so passes may overlap, repeat
or run on several replicas at once and still create each post once. Occurrences missed by more
than `grace` (the service was down) are skipped and named, not published late in a burst.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from herald.events import PostSubmitted, Violation
from scheduler.errors import Conflict, NotFound, Rejected, Unavailable
from scheduler.handlers.base import Deps
from scheduler.handlers.submit import submit
from scheduler.ports import Doc
from scheduler.recurrence import Recurrence, check_recurrence

log = structlog.get_logger(__name__)


@dataclass
class PassReport:
    campaigns: int = 0
    created: int = 0
    existing: int = 0
    rejected: int = 0
    skipped_late: int = 0
    errors: list[str] = field(default_factory=list)


async def create_campaign(deps: Deps, business_id: str, spec: Doc) -> Doc:
    """`spec`: name, description, and optionally recurrence {rule, timezone, starts_at} with a
    template {content, targets}; both or neither."""
    recurrence, template = spec.get("recurrence"), spec.get("template")
    violations: list[Violation] = []
    if (recurrence is None) != (template is None):
        message = "A recurring campaign needs both a recurrence and a post template."
        path = "template" if template is None else "recurrence"
        violations.append(Violation(path=path, message=message, code="required"))
    if recurrence is not None:
        starts = recurrence["starts_at"]
        violations.extend(check_recurrence(recurrence["rule"], recurrence["timezone"], starts))
    if violations:
        raise Rejected(violations)
    now = deps.clock()
    campaign = {
        "_id": f"c_{uuid.uuid4().hex}",
        "business_id": business_id,
        "name": spec["name"],
        "description": spec.get("description"),
        "recurrence": _stored_recurrence(recurrence),
        "template": template,
        "status": "active",
        "planned_until": None,
        "created_at": now,
        "last_run_at": None,
        "last_problems": [],
    }
    await deps.campaigns.insert(campaign)
    return campaign


def _stored_recurrence(recurrence: Doc | None) -> Doc | None:
    if recurrence is None:
        return None
    return {**recurrence, "starts_at": recurrence["starts_at"].isoformat()}


async def owned_campaign(deps: Deps, business_id: str, campaign_id: str) -> Doc:
    campaign = await deps.campaigns.get(business_id, campaign_id)
    if campaign is None:
        msg = f"no campaign {campaign_id} in this business"
        raise NotFound(msg)
    return campaign


async def end_campaign(deps: Deps, business_id: str, campaign_id: str) -> Doc:
    campaign = await owned_campaign(deps, business_id, campaign_id)
    if campaign["status"] == "ended":
        msg = "the campaign has ended already"
        raise Conflict(msg)
    await deps.campaigns.update(campaign_id, {"status": "ended"})
    return {**campaign, "status": "ended"}


async def run_pass(deps: Deps, *, horizon: timedelta, grace: timedelta) -> PassReport:
    report = PassReport()
    for campaign in await deps.campaigns.active():
        if campaign.get("recurrence") is None:
            continue
        report.campaigns += 1
        await _plan(deps, campaign, horizon, grace, report)
    log.info("campaigns.pass", **{k: v for k, v in vars(report).items() if k != "errors"})
    return report


async def _plan(
    deps: Deps, campaign: Doc, horizon: timedelta, grace: timedelta, report: PassReport
) -> None:
    now = deps.clock()
    rule = campaign["recurrence"]
    recurrence = Recurrence(
        rule["rule"], rule["timezone"], datetime.fromisoformat(rule["starts_at"])
    )
    planned = campaign.get("planned_until") or campaign["created_at"]
    earliest = now - grace
    if planned < earliest:
        report.skipped_late += len(recurrence.occurrences(planned, earliest))
        planned = earliest
    until = now + horizon
    problems: list[str] = []
    for moment in recurrence.occurrences(planned, until):
        try:
            result = await submit(deps, _submission(campaign, moment), source="campaign")
        except Rejected as rejected:
            report.rejected += 1
            problems.extend(
                f"{moment.isoformat()}: {v.path}: {v.message}" for v in rejected.violations
            )
            continue
        except Unavailable as exc:
            report.errors.append(f"{campaign['_id']}: {exc.message}")
            return  # leave planned_until where it is: the next pass tries the same occurrences
        if result.created:
            report.created += 1
        else:
            report.existing += 1
    changes = {"planned_until": until, "last_run_at": now, "last_problems": problems[-20:]}
    await deps.campaigns.update(campaign["_id"], changes)


def _submission(campaign: Doc, moment: datetime) -> PostSubmitted:
    template = campaign["template"]
    return PostSubmitted.model_validate(
        {
            "business_id": campaign["business_id"],
            "idempotency_key": f"campaign:{campaign['_id']}:{moment.isoformat()}",
            "content": template["content"],
            "targets": template["targets"],
            "schedule": {"publish_at": moment},
            "campaign_id": campaign["_id"],
        }
    )
