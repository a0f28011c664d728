"""`GET /v1/posts/{post_id}/analytics`: per target, the latest snapshot and the history by age,
in the common vocabulary with the platform's names beside it (docs/analytics.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import AwareDatetime, BaseModel, Field

from herald.inputs import ID_PATTERN
from herald.topics import Platform
from scheduler.analytics.store import MongoAnalytics, StoredSnapshot
from scheduler.analytics.vocabulary import translate
from scheduler.api.common import DepsDep, Reader, error_responses
from scheduler.handlers.base import owned_post
from scheduler.models import Post, Role, Target

router = APIRouter(prefix="/v1/posts", tags=["analytics"])

PostId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="The post's id.")
]
WITHOUT_INSIGHTS = (Platform.WHATSAPP,)


class MetricValue(BaseModel):
    value: float
    platform_metric: str = Field(
        description="The platform's name of the figure; `metric.key` for one key of a breakdown.",
        examples=["post_media_view", "post_activity_by_action_type.comment", "view_count"],
    )
    by_type: dict[str, float] | None = Field(
        default=None, description="The platform's breakdown, where it gives one (reactions)."
    )


class Snapshot(BaseModel):
    age_s: int = Field(description="How long after publishing it was taken (3600: 1 h).")
    collected_at: AwareDatetime
    metrics: dict[str, MetricValue] = Field(description="Common name -> figure.")
    absent: dict[str, str] = Field(
        description="Common name -> why this post type or snapshot has no such figure (never 0)."
    )
    platform_metrics: dict[str, float | dict[str, float]] = Field(
        description="Every figure as the platform named and answered it."
    )


class TargetAnalytics(BaseModel):
    target_id: str
    integration_id: str
    platform: Platform
    kind: str | None = Field(description="The post kind where the platform has several.")
    platform_post_id: str | None
    permalink: str | None
    published_at: AwareDatetime | None
    latest: Snapshot | None = Field(description="The snapshot at the greatest age so far.")
    history: list[Snapshot] = Field(description="Every snapshot, by age (1 h, 24 h, 7 d, ...).")


class PostAnalytics(BaseModel):
    post_id: str
    targets: list[TargetAnalytics]


def analytics_of(request: Request) -> MongoAnalytics:
    store: MongoAnalytics = request.app.state.analytics
    return store


@router.get(
    "/{post_id}/analytics",
    response_model=PostAnalytics,
    responses=error_responses(401, 403, 404, 503),
)
async def get_post_analytics(
    post_id: PostId, request: Request, deps: DepsDep, key: Reader
) -> PostAnalytics:
    """Insights of each published target: latest snapshot and history by age, with the common
    metric names, the platform's names beside them, and why any figure is absent."""
    post = await owned_post(deps, key.business_id, post_id)  # another business's: 404
    targets = await deps.posts.targets_of([post])
    snapshots = await analytics_of(request).of_post(key.business_id, post_id)
    shown = [t for t in targets if t.role is Role.TARGET and t.platform not in WITHOUT_INSIGHTS]
    shown.sort(key=lambda t: t.index)
    return PostAnalytics(
        post_id=post_id,
        targets=[_target(post, t, [s for s in snapshots if s.target_id == t.id]) for t in shown],
    )


def _target(post: Post, target: Target, snapshots: list[StoredSnapshot]) -> TargetAnalytics:
    kind = _kind(post, target)
    history = [_snapshot(target.platform, kind, s) for s in snapshots]
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
    )


def _kind(post: Post, target: Target) -> str | None:
    if target.index >= len(post.targets):
        return None
    kind = post.targets[target.index].options.get("kind")
    return str(kind) if isinstance(kind, str) else None


def _snapshot(platform: Platform, kind: str | None, stored: StoredSnapshot) -> Snapshot:
    translated = translate(platform, kind, stored.metrics)
    return Snapshot(
        age_s=stored.age_s,
        collected_at=stored.collected_at,
        metrics={
            name: MetricValue(value=f.value, platform_metric=f.platform_metric, by_type=f.by_type)
            for name, f in translated.metrics.items()
        },
        absent=translated.absent,
        platform_metrics=stored.metrics,
    )
