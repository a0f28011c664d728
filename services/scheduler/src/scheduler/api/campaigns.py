"""`/v1/campaigns`: named groups of posts, optionally recurring (RRULE with a time zone)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from herald.inputs import ID_PATTERN
from scheduler.api.common import DepsDep, Reader, Writer, error_responses
from scheduler.api.schemas import CampaignCreate, CampaignList, CampaignView
from scheduler.api.views import campaign_view
from scheduler.handlers import campaigns
from scheduler.recurrence import Recurrence

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])

CampaignId = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]


@router.post(
    "", status_code=201, response_model=CampaignView, responses=error_responses(401, 403, 422, 503)
)
async def create_campaign(body: CampaignCreate, deps: DepsDep, key: Writer) -> CampaignView:
    """Create a campaign; with a recurrence and a template, its posts are created ahead of time
    by the campaign pass (`python -m scheduler process-campaigns --once` runs one)."""
    rule = body.recurrence
    campaign = await campaigns.create_campaign(
        deps,
        key.business_id,
        name=body.name,
        description=body.description,
        recurrence=None if rule is None else Recurrence(rule.rule, rule.timezone, rule.starts_at),
        template=None if body.template is None else body.template.model_dump(mode="json"),
    )
    return campaign_view(campaign)


@router.get("", response_model=CampaignList, responses=error_responses(401, 403, 503))
async def list_campaigns(deps: DepsDep, key: Reader) -> CampaignList:
    found = await deps.campaigns.for_business(key.business_id)
    return CampaignList(items=[campaign_view(c) for c in found])


@router.get(
    "/{campaign_id}", response_model=CampaignView, responses=error_responses(401, 403, 404, 503)
)
async def get_campaign(campaign_id: CampaignId, deps: DepsDep, key: Reader) -> CampaignView:
    return campaign_view(await campaigns.owned_campaign(deps, key.business_id, campaign_id))


@router.post(
    "/{campaign_id}/end",
    response_model=CampaignView,
    responses=error_responses(401, 403, 404, 409, 503),
)
async def end_campaign(
    campaign_id: CampaignId,
    deps: DepsDep,
    key: Writer,
    keep_posts: Annotated[
        bool,
        Query(description="Leave the future posts the campaign created scheduled."),
    ] = False,
) -> CampaignView:
    """Stop creating posts for this campaign and cancel the future posts it created (unless
    `keep_posts`); `cancelled_posts` says how many. A post already published, or due within
    seconds and claimed by a dispatcher, is not cancelled."""
    ended = await campaigns.end_campaign(deps, key.business_id, campaign_id, keep_posts=keep_posts)
    return campaign_view(ended.campaign, cancelled_posts=ended.cancelled_posts)
