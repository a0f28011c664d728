"""`/v1/rejections`: what the scheduler refused at ingestion (`post.submitted`), and why."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from herald.events import Violation
from scheduler.adapters.rejections import KeptRejection, MongoRejections
from scheduler.api.common import Reader, error_responses
from scheduler.api.schemas import Moment

router = APIRouter(prefix="/v1/rejections", tags=["rejections"])


class RejectionView(BaseModel):
    id: str = Field(description="Where it was read: topic:partition:offset.")
    rejected_at: datetime
    idempotency_key: str | None = Field(description="As the body named it, when readable.")
    source_event_id: str | None = Field(description="The CloudEvents id, when readable.")
    violations: list[Violation]
    body: str | None = Field(description="The body as text (null when it was not UTF-8).")


class RejectionPage(BaseModel):
    items: list[RejectionView]
    next_before: datetime | None = Field(description="Pass as `before` for older ones.")


@router.get("", response_model=RejectionPage, responses=error_responses(401, 403, 422, 503))
async def list_rejections(
    request: Request,
    key: Reader,
    idempotency_key: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    before: Annotated[Moment | None, Query(description="Rejected before this time.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> RejectionPage:
    """Submissions of this business that were refused, newest first, each with every reason."""
    reader: MongoRejections = request.app.state.rejections
    found = await reader.of_business(
        key.business_id, idempotency_key=idempotency_key, before=before, limit=limit + 1
    )
    items = [_view(r) for r in found[:limit]]
    more = len(found) > limit
    return RejectionPage(items=items, next_before=items[-1].rejected_at if more else None)


def _view(kept: KeptRejection) -> RejectionView:
    try:
        body: str | None = kept.body.decode("utf-8")
    except UnicodeDecodeError:
        body = None
    return RejectionView(
        id=kept.id,
        rejected_at=kept.rejected_at,
        idempotency_key=kept.idempotency_key,
        source_event_id=kept.source_event_id,
        violations=kept.violations,
        body=body,
    )
