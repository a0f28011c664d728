"""`/v1/posts`: submit, read, list, history, cancel, retry, reschedule, schedule or delete a
draft."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response

from herald.events import PostSubmitted
from herald.inputs import ID_PATTERN
from scheduler.api.broadcast_schemas import RecipientItem, RecipientPage, RecipientQuery
from scheduler.api.common import DepsDep, Reader, Writer, error_responses
from scheduler.api.schemas import (
    Changed,
    History,
    HistoryEntry,
    ListQuery,
    PostCreate,
    PostPage,
    PostView,
    Reschedule,
    ScheduleDraft,
)
from scheduler.api.views import decode_cursor, decode_key, encode_cursor, encode_key, post_view
from scheduler.deliveries import mask
from scheduler.handlers import delivery_reads, manage, queries
from scheduler.handlers.reschedule import reschedule
from scheduler.handlers.submit import submit
from scheduler.ports import PostFilter

router = APIRouter(prefix="/v1/posts", tags=["posts"])

PostId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="The post's id.")
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="The same key (per business) returns the same post instead of a second one.",
    ),
]


@router.post(
    "",
    status_code=201,
    response_model=PostView,
    responses={
        200: {"model": PostView, "description": "A replay of an earlier request with this key"},
        **error_responses(401, 403, 409, 422, 503),
    },
)
async def create_post(
    body: PostCreate,
    deps: DepsDep,
    key: Writer,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> PostView:
    """Submit a post to publish now or at a time (with a time zone) on connected accounts."""
    submission = PostSubmitted(
        business_id=key.business_id,
        idempotency_key=idempotency_key or f"auto:{uuid.uuid4().hex}",
        content=body.content,
        targets=body.targets,
        schedule=body.schedule.to_schedule(),
        campaign_id=body.campaign_id,
        external_ref=body.external_ref,
    )
    result = await submit(deps, submission, source="api", draft=body.draft)
    if not result.created:
        response.status_code = 200
    return post_view(await queries.created_post(deps, result))


@router.get("", response_model=PostPage, responses=error_responses(401, 403, 422, 503))
async def list_posts(deps: DepsDep, key: Reader, query: Annotated[ListQuery, Query()]) -> PostPage:
    """The business's posts, newest first, filtered by status, platform, integration, campaign,
    due time, the submitter's `external_ref` or idempotency key."""
    where = PostFilter(
        business_id=key.business_id,
        platform=query.platform.value if query.platform else None,
        integration_id=query.integration_id,
        campaign_id=query.campaign_id,
        due_from=query.due_from,
        due_to=query.due_to,
        external_ref=query.external_ref,
        idempotency_key=query.idempotency_key,
    )
    page = await queries.list_posts(
        deps,
        where,
        status=query.status.value if query.status else None,
        after=decode_cursor(query.cursor),
        limit=query.limit,
    )
    return PostPage(
        items=[post_view(i) for i in page.items], next_cursor=encode_cursor(page.next_after)
    )


@router.get("/{post_id}", response_model=PostView, responses=error_responses(401, 403, 404, 503))
async def get_post(post_id: PostId, deps: DepsDep, key: Reader) -> PostView:
    """One post: its status and, per target, state, attempts, last error and permalink."""
    return post_view(await queries.read_post(deps, key.business_id, post_id))


@router.get(
    "/{post_id}/history", response_model=History, responses=error_responses(401, 403, 404, 503)
)
async def get_history(
    post_id: PostId,
    deps: DepsDep,
    key: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> History:
    """Everything that happened to the post, oldest first."""
    entries = await queries.history(deps, key.business_id, post_id, limit=limit)
    return History(
        post_id=post_id,
        entries=[
            HistoryEntry(at=e.at, kind=e.kind, target_id=e.target_id, detail=e.detail)
            for e in entries
        ],
    )


@router.get(
    "/{post_id}/recipients",
    response_model=RecipientPage,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def list_recipients(
    post_id: PostId, deps: DepsDep, key: Reader, query: Annotated[RecipientQuery, Query()]
) -> RecipientPage:
    """The recipients of a WhatsApp post (a broadcast's, or those it lists), each with its
    furthest delivery state, message id and error; numbers are masked."""
    page = await delivery_reads.recipients_page(
        deps,
        key.business_id,
        post_id,
        after=decode_key(query.cursor),
        limit=query.limit,
        state=query.state,
    )
    items = [RecipientItem.model_validate({**vars(v), "to": mask(v.to)}) for v in page.items]
    return RecipientPage(items=items, next_cursor=encode_key(page.next_after))


@router.post(
    "/{post_id}/cancel",
    response_model=Changed,
    responses=error_responses(401, 403, 404, 409, 503),
)
async def cancel_post(post_id: PostId, deps: DepsDep, key: Writer) -> Changed:
    """Cancel every target not yet dispatched."""
    result = await manage.cancel(deps, key.business_id, post_id)
    return await _changed(deps, key.business_id, post_id, result)


@router.post(
    "/{post_id}/retry",
    response_model=Changed,
    responses=error_responses(401, 403, 404, 409, 503),
)
async def retry_post(post_id: PostId, deps: DepsDep, key: Writer) -> Changed:
    """Dispatch every failed target again, now."""
    result = await manage.retry(deps, key.business_id, post_id)
    return await _changed(deps, key.business_id, post_id, result)


@router.post(
    "/{post_id}/schedule",
    response_model=Changed,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def schedule_draft(
    post_id: PostId, deps: DepsDep, key: Writer, body: ScheduleDraft | None = None
) -> Changed:
    """Schedule a draft (with its own schedule, or the one given)."""
    schedule = body.schedule.to_schedule() if body and body.schedule else None
    result = await manage.schedule_draft(deps, key.business_id, post_id, schedule)
    return await _changed(deps, key.business_id, post_id, result)


@router.post(
    "/{post_id}/reschedule",
    response_model=Changed,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def reschedule_post(post_id: PostId, deps: DepsDep, key: Writer, body: Reschedule) -> Changed:
    """Move a scheduled post to another time. Every target must still be scheduled (none
    dispatched); the time is checked as a new post's is (a past time is refused at
    `publish_at`); one due within seconds, which a dispatcher is sending, answers 409."""
    result = await reschedule(deps, key.business_id, post_id, body.to_schedule())
    return await _changed(deps, key.business_id, post_id, result)


@router.delete("/{post_id}", status_code=204, responses=error_responses(401, 403, 404, 409, 503))
async def delete_draft(post_id: PostId, deps: DepsDep, key: Writer) -> Response:
    """Delete a draft. A scheduled post is cancelled instead."""
    await manage.delete_draft(deps, key.business_id, post_id)
    return Response(status_code=204)


async def _changed(
    deps: DepsDep, business_id: str, post_id: str, result: manage.Changed
) -> Changed:
    item = await queries.read_post(deps, business_id, post_id)
    return Changed(post=post_view(item), changed=result.target_ids, skipped=result.skipped)
