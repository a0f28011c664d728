"""A refresh on demand (`POST /v1/posts/{post_id}/analytics/refresh`, docs/analytics.md): the
scheduler holds no platform tokens, so it asks each published target's publisher for a snapshot
now (`herald.post.insights_requested.v1` on `post.insights`, ADR 0003), which takes it within
the platform's rate limits and tells it as the usual insights event, at the post's age then.

A post may be refreshed once per `interval_s`: the last refresh of each post is one document in
`analytics_refreshes` (`_id` the post id). Taking a refresh is an insert, or an update guarded by
the previous time being old enough, so two replicas asked at once let one through (the store
rules of docs/architecture.md); the other answers 429 with the seconds left in `Retry-After`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, Field
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from herald.events import PostInsightsRequested
from herald.httperrors import envelope
from herald.inputs import ID_PATTERN
from herald.mongo import Document
from herald.topics import Platform
from scheduler.api.common import DepsDep, Writer, error_responses
from scheduler.api.schemas import ErrorBody
from scheduler.errors import Conflict, Unavailable
from scheduler.handlers.base import Deps, owned_post
from scheduler.models import Role, Target, TargetState
from scheduler.settings import AnalyticsRefreshSettings

router = APIRouter(prefix="/v1/posts", tags=["analytics"])

REFRESHES = "analytics_refreshes"
WITH_INSIGHTS = frozenset({Platform.FACEBOOK, Platform.INSTAGRAM, Platform.TIKTOK})


class RequestedTarget(BaseModel):
    target_id: str
    integration_id: str
    platform: Platform
    platform_post_id: str | None


class RefreshRequested(BaseModel):
    post_id: str
    requested_at: AwareDatetime
    next_refresh_at: AwareDatetime = Field(description="When this post may be refreshed again.")
    targets: list[RequestedTarget] = Field(
        description="The published targets whose publishers were asked for a snapshot now."
    )


def retry_after_s(last: datetime | None, now: datetime, interval_s: float) -> int | None:
    """Whole seconds until a post refreshed at `last` may be refreshed again (at least 1); None
    when it may be now."""
    if last is None:
        return None
    left = (last - now).total_seconds() + interval_s
    return max(1, math.ceil(left)) if left > 0 else None


def refreshable(targets: list[Target]) -> list[Target]:
    """The targets a refresh asks for: published, on a platform with post insights."""
    return [
        t
        for t in sorted(targets, key=lambda t: t.index)
        if t.role is Role.TARGET
        and t.state is TargetState.PUBLISHED
        and t.platform in WITH_INSIGHTS
    ]


class MongoRefreshes:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._refreshes = db[REFRESHES]

    async def take(
        self, post_id: str, business_id: str, now: datetime, interval_s: float
    ) -> int | None:
        """Record a refresh of `post_id` at `now`: None when taken, else the seconds until the
        post may be refreshed again."""
        try:
            await self._refreshes.insert_one(
                {"_id": post_id, "business_id": business_id, "at": now}
            )
        except DuplicateKeyError:
            old_enough = now - timedelta(seconds=interval_s)
            taken = await self._refreshes.update_one(
                {"_id": post_id, "at": {"$lte": old_enough}}, {"$set": {"at": now}}
            )
            if taken.matched_count:
                return None
            found = await self._refreshes.find_one({"_id": post_id}) or {}
            last = found.get("at")
            if not isinstance(last, datetime):
                return 1  # changed between the two reads: ask again in a moment
            return retry_after_s(_aware(last, now), now, interval_s) or 1
        return None

    async def release(self, post_id: str, at: datetime) -> None:
        """Forget a refresh whose requests could not be sent, so it may be asked again."""
        await self._refreshes.delete_one({"_id": post_id, "at": at})


async def ask_publishers(deps: Deps, targets: list[Target], now: datetime) -> None:
    """One request per target, keyed by post id like the snapshots it asks for."""
    for target in targets:
        event = PostInsightsRequested(
            post_id=target.post_id,
            target_id=target.id,
            business_id=target.business_id,
            integration_id=target.integration_id,
            platform=target.platform,
            requested_at=now,
        )
        await deps.emitter.emit(event, topic=deps.names.post_insights, key=target.post_id)


def _aware(moment: datetime, like: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=like.tzinfo)


PostId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="The post's id.")
]
TOO_SOON = {
    "model": ErrorBody,
    "description": "The post was refreshed less than the refresh interval ago",
    "headers": {
        "Retry-After": {
            "description": "Seconds until the post may be refreshed again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}


@router.post(
    "/{post_id}/analytics/refresh",
    status_code=202,
    response_model=RefreshRequested,
    responses={**error_responses(401, 403, 404, 409, 503), 429: TOO_SOON},
)
async def refresh_post_analytics(
    post_id: PostId, request: Request, deps: DepsDep, key: Writer
) -> RefreshRequested | JSONResponse:
    """Ask each published target's publisher for a snapshot now, taken within the platform's
    rate limits and shown at its age in `GET /v1/posts/{post_id}/analytics` once collected.
    At most once per refresh interval (default 5 min) per post: sooner is a 429 with
    `Retry-After`. A post with no published target on Facebook, Instagram or TikTok is a 409."""
    post = await owned_post(deps, key.business_id, post_id)  # another business's: 404
    targets = refreshable(await deps.posts.targets_of([post]))
    if not targets:
        msg = "the post has no published target on a platform with post insights to refresh"
        raise Conflict(msg, code="nothing_to_refresh")
    settings: AnalyticsRefreshSettings = request.app.state.analytics_refresh
    refreshes: MongoRefreshes = request.app.state.analytics_refreshes
    now = deps.clock()
    wait = await refreshes.take(post_id, key.business_id, now, settings.interval_s)
    if wait is not None:
        msg = f"post {post_id} was refreshed less than {settings.interval_s:g} s ago"
        body = envelope("refreshed_recently", f"{msg}; try again in {wait} s")
        return JSONResponse(body, status_code=429, headers={"Retry-After": str(wait)})
    try:
        await ask_publishers(deps, targets, now)
    except Exception as exc:  # the broker refused: the refresh did not happen
        await refreshes.release(post_id, now)
        msg = "Kafka did not take the refresh requests; try again"
        raise Unavailable(msg) from exc
    return RefreshRequested(
        post_id=post_id,
        requested_at=now,
        next_refresh_at=now + timedelta(seconds=settings.interval_s),
        targets=[
            RequestedTarget(
                target_id=t.id,
                integration_id=t.integration_id,
                platform=t.platform,
                platform_post_id=t.platform_post_id,
            )
            for t in targets
        ],
    )
