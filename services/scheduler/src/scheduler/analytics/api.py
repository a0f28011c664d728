"""The analytics routes: `GET /v1/posts/{post_id}/analytics` (per target, the latest snapshot
and the history by age; JSON, or CSV with `Accept: text/csv`) and `GET /v1/analytics/summary`
(totals per platform and integration, engagement rates, top posts). Another business's post or
integration id is a 404, as everywhere (docs/analytics.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from herald.events import Violation
from herald.inputs import ID_PATTERN
from herald.topics import Platform
from scheduler.analytics.export import post_csv
from scheduler.analytics.funnel import Funnel, funnels
from scheduler.analytics.schemas import (
    AnalyticsSummary,
    Deliveries,
    IntegrationTotals,
    MetricValue,
    PlatformTotals,
    PostAnalytics,
    Snapshot,
    TargetAnalytics,
    TopPost,
)
from scheduler.analytics.store import MongoAnalytics, StoredSnapshot
from scheduler.analytics.summary import Group, summarize
from scheduler.analytics.vocabulary import translate
from scheduler.api.common import DepsDep, Reader, error_responses
from scheduler.api.schemas import Moment
from scheduler.errors import NotFound, Rejected
from scheduler.handlers.base import owned_post
from scheduler.models import Post, Role, Target

router = APIRouter(prefix="/v1/posts", tags=["analytics"])
summary_router = APIRouter(prefix="/v1/analytics", tags=["analytics"])

PostId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="The post's id.")
]
CSV = "text/csv"
DEFAULT_WINDOW = timedelta(days=28)
LONGEST_WINDOW = timedelta(days=366)
CommonMetric = Literal[  # the names of vocabulary.COMMON (a unit test holds them equal)
    "views",
    "reach",
    "reactions",
    "comments",
    "shares",
    "saves",
    "clicks",
    "interactions",
    "replies",
    "avg_watch_time_s",
]


def analytics_of(request: Request) -> MongoAnalytics:
    store: MongoAnalytics = request.app.state.analytics
    return store


@router.get(
    "/{post_id}/analytics",
    response_model=PostAnalytics,
    responses={
        200: {"content": {CSV: {"schema": {"type": "string"}}}},
        **error_responses(401, 403, 404, 503),
    },
)
async def get_post_analytics(
    post_id: PostId, request: Request, deps: DepsDep, key: Reader
) -> PostAnalytics | Response:
    """Insights of each published target: latest snapshot and history by age, with the common
    metric names, the platform's names beside them, and why any figure is absent. With
    `Accept: text/csv`, one row per target, snapshot and metric."""
    post = await owned_post(deps, key.business_id, post_id)  # another business's: 404
    targets = await deps.posts.targets_of([post])
    snapshots = await analytics_of(request).of_post(key.business_id, post_id)
    shown = sorted((t for t in targets if t.role is not Role.BATCH), key=lambda t: t.index)
    funnel = await funnels(deps, post, targets)
    pricing = await analytics_of(request).pricing_of(key.business_id, post_id) if funnel else {}
    analytics = PostAnalytics(
        post_id=post_id,
        targets=[
            _target(
                post,
                t,
                [s for s in snapshots if s.target_id == t.id],
                funnel.get(t.id),
                pricing.get(t.id, {}),
            )
            for t in shown
        ],
    )
    if CSV in request.headers.get("accept", ""):
        return Response(post_csv(analytics), media_type=f"{CSV}; charset=utf-8")
    return analytics


@summary_router.get(
    "/summary",
    response_model=AnalyticsSummary,
    response_model_by_alias=True,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def get_summary(
    request: Request,
    deps: DepsDep,
    key: Reader,
    *,
    from_: Annotated[
        Moment | None, Query(alias="from", description="Published at or after.")
    ] = None,
    to: Annotated[Moment | None, Query(description="Published before; default now.")] = None,
    platform: Platform | None = None,
    integration_id: Annotated[str | None, Query(max_length=64, pattern=ID_PATTERN)] = None,
    metric: CommonMetric = "views",
    top: Annotated[int, Query(ge=0, le=50, description="How many top posts.")] = 5,
) -> AnalyticsSummary:
    """Totals and engagement rates per platform and per integration over the posts published
    in `[from, to)` (default: the last 28 days), each target by its latest snapshot, and the
    top posts by `metric`."""
    end = to or deps.clock()
    start = from_ or end - DEFAULT_WINDOW
    if not start < end or end - start > LONGEST_WINDOW:
        violation = Violation(
            path="from", message="from must be before to, at most 366 days", code="invalid_range"
        )
        raise Rejected([violation])
    if integration_id is not None and (
        await deps.integrations.get(integration_id, key.business_id) is None
    ):
        msg = f"no integration {integration_id} in this business"
        raise NotFound(msg)
    snapshots = await analytics_of(request).latest_of_business(
        key.business_id,
        (start, end),
        platform=platform.value if platform else None,
        integration_id=integration_id,
    )
    found = summarize(snapshots, {s.target_id: s.kind for s in snapshots}, metric, top)
    return AnalyticsSummary.model_validate(
        {
            "from": start,
            "to": end,
            "targets": found.targets,
            "platforms": [
                PlatformTotals.model_validate({"platform": p, **_totals(g)})
                for p, g in sorted(found.platforms.items())
            ],
            "integrations": [
                IntegrationTotals.model_validate({"integration_id": i, "platform": p, **_totals(g)})
                for i, (p, g) in sorted(found.integrations.items())
            ],
            "metric": metric,
            "top_posts": [
                _top(t.snapshot, t.figure.value, t.figure.platform_metric) for t in found.top
            ],
        }
    )


def _totals(group: Group) -> dict[str, object]:
    return {
        "targets": group.targets,
        "totals": group.totals,
        "counted": group.counted,
        "engagement_rate": group.engagement_rate,
    }


def _top(snapshot: StoredSnapshot, value: float, platform_metric: str) -> TopPost:
    return TopPost(
        post_id=snapshot.post_id,
        target_id=snapshot.target_id,
        platform=snapshot.platform,
        integration_id=snapshot.integration_id,
        platform_post_id=snapshot.platform_post_id,
        value=value,
        platform_metric=platform_metric,
        age_s=snapshot.age_s,
        collected_at=snapshot.collected_at,
    )


def _target(
    post: Post,
    target: Target,
    snapshots: list[StoredSnapshot],
    funnel: Funnel | None,
    pricing: dict[str, int],
) -> TargetAnalytics:
    kind = _kind(post, target)
    history = [_snapshot(target.platform, kind, s) for s in snapshots]
    deliveries = None
    if funnel is not None:
        deliveries = Deliveries.model_validate(
            {
                **vars(funnel),
                "rates": funnel.rates,
                "failures": [vars(f) for f in funnel.failures],
                "pricing": pricing,
            }
        )
    first = snapshots[0] if snapshots else None
    return TargetAnalytics(
        target_id=target.id,
        integration_id=target.integration_id,
        platform=target.platform,
        kind=kind,
        platform_post_id=target.platform_post_id or (first.platform_post_id if first else None),
        permalink=target.permalink,
        published_at=target.published_at or (first.published_at if first else None),
        latest=history[-1] if history else None,
        history=history,
        deliveries=deliveries,
    )


def _kind(post: Post, target: Target) -> str | None:
    if target.index >= len(post.targets):
        return None
    kind = post.targets[target.index].options.get("kind")
    return str(kind) if isinstance(kind, str) else None


def _snapshot(platform: Platform, kind: str | None, stored: StoredSnapshot) -> Snapshot:
    translated = translate(platform, kind, stored.metrics)
    if stored.unavailable is not None:
        refusal = stored.unavailable
        reason = f"{platform.value} gave no insights at this age: {refusal.get('message')}"
        reason += f" (error {refusal['code']})" if refusal.get("code") else ""
        translated = replace(translated, absent=dict.fromkeys(translated.absent, reason))
    return Snapshot(
        age_s=stored.age_s,
        collected_at=stored.collected_at,
        metrics={
            name: MetricValue(value=f.value, platform_metric=f.platform_metric, by_type=f.by_type)
            for name, f in translated.metrics.items()
        },
        absent=translated.absent,
        platform_metrics=stored.metrics,
        unavailable=stored.unavailable,
    )
