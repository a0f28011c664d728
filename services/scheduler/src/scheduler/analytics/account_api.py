"""`GET /v1/analytics/accounts/{integration_id}`: a connected account's figures by UTC day
(Page insights, Instagram account insights, TikTok user stats), in the common account
vocabulary with the platform's names beside them and the reason for every figure that is
absent; JSON, or CSV with `Accept: text/csv`. Another business's integration id is a 404, as
everywhere (docs/analytics.md, ADR 0020)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from herald.events import IntegrationStatus, Violation
from herald.inputs import ID_PATTERN
from herald.topics import Platform
from scheduler.analytics.account_store import MongoAccountDays, StoredDay
from scheduler.analytics.account_vocabulary import translate_account
from scheduler.api.common import DepsDep, Reader, error_responses
from scheduler.errors import NotFound, Rejected

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])
CSV = "text/csv"
DEFAULT_DAYS = 28
LONGEST_DAYS = 366
CSV_COLUMNS = (
    "integration_id",
    "platform",
    "account_id",
    "day",
    "collected_at",
    "metric",
    "value",
    "platform_metric",
    "absent_reason",
)


class AccountFigure(BaseModel):
    value: float
    platform_metric: str = Field(
        description="The platform's name of the figure.",
        examples=["page_follows", "follower_count", "reach"],
    )


class AccountDay(BaseModel):
    day: date = Field(description="The UTC day the figures are of.")
    collected_at: AwareDatetime = Field(description="When the publisher read them.")
    metrics: dict[str, AccountFigure] = Field(description="Common name -> figure.")
    absent: dict[str, str] = Field(
        description="Common name -> why the platform or this day has no such figure (never 0)."
    )
    platform_metrics: dict[str, float] = Field(
        description="Every figure as the platform named and answered it."
    )
    unavailable: dict[str, str | None] | None = Field(
        default=None,
        description="A day the platform would not give (revoked grant, missing scope): its "
        "code and message; every metric is then absent with that reason.",
    )


class AccountAnalytics(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    integration_id: str
    platform: Platform
    account_id: str | None = Field(description="The platform's id of the account, once known.")
    from_: date = Field(alias="from", description="The first day of the window.")
    to: date = Field(description="The day after the window (exclusive).")
    granularity: Literal["day"]
    days: list[AccountDay] = Field(description="The days told so far, oldest first.")
    not_collected: list[date] = Field(
        description="Finished days of the window with nothing told yet (the job takes a day "
        "once it is over; before the account was connected there is none)."
    )
    not_collected_reason: str | None = Field(
        default=None,
        description="Why no more days are being collected, when that is known: the integration "
        "is expired or disconnected, so its account is not read until it is reconnected.",
    )


def account_days_of(request: Request) -> MongoAccountDays:
    store: MongoAccountDays = request.app.state.account_days
    return store


IntegrationId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="The integration.")
]


@router.get(
    "/accounts/{integration_id}",
    response_model=AccountAnalytics,
    response_model_by_alias=True,
    responses={
        200: {"content": {CSV: {"schema": {"type": "string"}}}},
        **error_responses(401, 403, 404, 422, 503),
    },
)
async def get_account_analytics(
    integration_id: IntegrationId,
    request: Request,
    deps: DepsDep,
    key: Reader,
    *,
    from_: Annotated[
        date | None, Query(alias="from", description="First day (YYYY-MM-DD, UTC).")
    ] = None,
    to: Annotated[date | None, Query(description="Day after the last; default today.")] = None,
    granularity: Annotated[Literal["day"], Query(description="Only `day`.")] = "day",
) -> AccountAnalytics | Response:
    """The account's figures by UTC day over `[from, to)` (default: the 28 days before today,
    at most 366). With `Accept: text/csv`, one row per day and metric."""
    today = deps.clock().astimezone(UTC).date()
    end = to or today
    start = from_ or end - timedelta(days=DEFAULT_DAYS)
    if not start < end or (end - start).days > LONGEST_DAYS:
        message = f"from must be before to, at most {LONGEST_DAYS} days"
        raise Rejected([Violation(path="from", message=message, code="invalid_range")])
    integration = await deps.integrations.get(integration_id, key.business_id)
    if integration is None:  # unknown, or another business's
        raise NotFound(f"no integration {integration_id} in this business")
    stored = await account_days_of(request).between(key.business_id, integration_id, start, end)
    told = {s.day for s in stored}
    finished = min(end, today)
    analytics = AccountAnalytics(
        integration_id=integration_id,
        platform=integration.platform,
        account_id=stored[-1].account_id if stored else None,
        from_=start,
        to=end,
        granularity=granularity,
        days=[_day(integration.platform, s) for s in stored],
        not_collected=[
            start + timedelta(days=n)
            for n in range((finished - start).days)
            if start + timedelta(days=n) not in told
        ],
    )
    if integration.status in (IntegrationStatus.EXPIRED, IntegrationStatus.DISCONNECTED):
        analytics.not_collected_reason = (
            f"the integration is {integration.status.value}: its account is not read until it "
            "is reconnected"
        )
    if CSV in request.headers.get("accept", ""):
        return Response(account_csv(analytics), media_type=f"{CSV}; charset=utf-8")
    return analytics


def _day(platform: Platform, stored: StoredDay) -> AccountDay:
    translated = translate_account(platform, stored.metrics)
    absent = translated.absent
    if stored.unavailable is not None:
        refusal = stored.unavailable
        reason = f"{platform.value} gave no account figures for this day: {refusal.get('message')}"
        reason += f" (error {refusal['code']})" if refusal.get("code") else ""
        absent = dict.fromkeys((*translated.metrics, *translated.absent), reason)
    return AccountDay(
        day=stored.day,
        collected_at=stored.collected_at,
        metrics={
            name: AccountFigure(value=f.value, platform_metric=f.platform_metric)
            for name, f in translated.metrics.items()
        },
        absent=absent,
        platform_metrics=stored.metrics,
        unavailable=stored.unavailable,
    )


def account_csv(analytics: AccountAnalytics) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    ref = [analytics.integration_id, analytics.platform.value, _cell(analytics.account_id or "")]
    for day in analytics.days:
        at = [day.day.isoformat(), day.collected_at.isoformat()]
        for name, figure in day.metrics.items():
            writer.writerow([*ref, *at, name, f"{figure.value:g}", figure.platform_metric, ""])
        for name, reason in day.absent.items():
            writer.writerow([*ref, *at, name, "", "", reason])
    return out.getvalue()


def _cell(text: str) -> str:
    """A value from outside that a spreadsheet would read as a formula is kept as text."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text
