"""`/v1/audiences`: contact lists for WhatsApp broadcasts, their contacts and imports, and
`/v1/opt-outs`: numbers the business must not message again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from herald.inputs import ID_PATTERN
from scheduler.api.broadcast_schemas import (
    AudienceCreate,
    AudiencePage,
    AudienceView,
    ContactCreate,
    ContactPage,
    ContactView,
    ImportProblem,
    ImportReport,
    OptOutCreate,
    OptOutView,
)
from scheduler.api.common import DepsDep, Reader, Writer, error_responses
from scheduler.api.views import decode_key, encode_key
from scheduler.errors import TooLarge, UnsupportedMediaType
from scheduler.handlers import audiences
from scheduler.handlers.audiences import AudienceWithCount, ContactWithStatus
from scheduler.settings import AudienceSettings

router = APIRouter(prefix="/v1/audiences", tags=["audiences"])
opt_outs = APIRouter(prefix="/v1/opt-outs", tags=["audiences"])

AudienceId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="The audience's id.")
]
ContactId = Annotated[
    str, Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="The contact's id.")
]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=512)]
IMPORT_TYPES = ("text/csv", "application/json")
IMPORT_BODY = {
    "required": True,
    "content": {
        "text/csv": {
            "schema": {"type": "string"},
            "example": "phone,name,opted_in,city\n+351912345678,Ana Lima,yes,Lisbon\n",
        },
        "application/json": {
            "schema": {"type": "array", "items": {"type": "object"}},
            "example": [{"phone": "+351912345678", "opted_in": True, "fields": {"city": "Porto"}}],
        },
    },
}


@router.post(
    "", status_code=201, response_model=AudienceView, responses=error_responses(401, 403, 422, 503)
)
async def create_audience(body: AudienceCreate, deps: DepsDep, key: Writer) -> AudienceView:
    """Create a contact list with its custom fields."""
    made = await audiences.create_audience(
        deps, key.business_id, body.name, body.description, body.fields
    )
    return audience_view(made)


@router.get("", response_model=AudiencePage, responses=error_responses(401, 403, 422, 503))
async def list_audiences(
    deps: DepsDep, key: Reader, limit: Limit = 50, cursor: Cursor = None
) -> AudiencePage:
    items, after = await audiences.list_audiences(deps, key.business_id, decode_key(cursor), limit)
    return AudiencePage(items=[audience_view(a) for a in items], next_cursor=encode_key(after))


@router.get(
    "/{audience_id}", response_model=AudienceView, responses=error_responses(401, 403, 404, 503)
)
async def get_audience(audience_id: AudienceId, deps: DepsDep, key: Reader) -> AudienceView:
    return audience_view(await audiences.owned_audience(deps, key.business_id, audience_id))


@router.delete("/{audience_id}", status_code=204, responses=error_responses(401, 403, 404, 503))
async def delete_audience(audience_id: AudienceId, deps: DepsDep, key: Writer) -> Response:
    """Delete the audience and its contacts; a broadcast to it not yet sent then fails."""
    await audiences.delete_audience(deps, key.business_id, audience_id)
    return Response(status_code=204)


@router.post(
    "/{audience_id}/contacts",
    status_code=201,
    response_model=ContactView,
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
async def add_contact(
    audience_id: AudienceId, body: ContactCreate, deps: DepsDep, key: Writer
) -> ContactView:
    """Add one contact (409 if its number is in the audience already)."""
    standard = body.model_dump(exclude={"fields"})
    contact = await audiences.add_contact(deps, key.business_id, audience_id, standard, body.fields)
    return contact_view(contact)


@router.get(
    "/{audience_id}/contacts",
    response_model=ContactPage,
    responses=error_responses(401, 403, 404, 422, 503),
)
async def list_contacts(
    audience_id: AudienceId, deps: DepsDep, key: Reader, limit: Limit = 100, cursor: Cursor = None
) -> ContactPage:
    """Contacts in phone order, each with its status."""
    items, after = await audiences.contacts_page(
        deps, key.business_id, audience_id, decode_key(cursor), limit
    )
    return ContactPage(items=[contact_view(c) for c in items], next_cursor=encode_key(after))


@router.delete(
    "/{audience_id}/contacts/{contact_id}",
    status_code=204,
    responses=error_responses(401, 403, 404, 503),
)
async def delete_contact(
    audience_id: AudienceId, contact_id: ContactId, deps: DepsDep, key: Writer
) -> Response:
    await audiences.delete_contact(deps, key.business_id, audience_id, contact_id)
    return Response(status_code=204)


@router.post(
    "/{audience_id}/imports",
    response_model=ImportReport,
    responses=error_responses(401, 403, 404, 413, 415, 422, 503),
    openapi_extra={"requestBody": IMPORT_BODY},
)
async def import_contacts(
    audience_id: AudienceId, request: Request, deps: DepsDep, key: Writer
) -> ImportReport:
    """Import contacts from CSV (a header row; columns phone, opted_in, and optionally name,
    opted_in_at and the audience's fields) or a JSON array of such objects. Good rows are
    imported; every bad row is reported by line, field and reason."""
    settings: AudienceSettings = request.app.state.audience_settings
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in IMPORT_TYPES:
        msg = f"send text/csv or application/json, not {media_type or 'no content type'}"
        raise UnsupportedMediaType(msg)
    data = await _read(request, settings.import_max_bytes)
    report = await audiences.import_contacts(
        deps, key.business_id, audience_id, data, media_type, max_rows=settings.import_max_rows
    )
    metrics = request.app.state.metrics.broadcasts
    metrics.import_rows.labels("imported").inc(report.imported)
    metrics.import_rows.labels("rejected").inc(report.rejected_rows)
    for problem in report.problems:
        metrics.import_rejects.labels(problem.code).inc()
    return ImportReport(
        rows=report.rows,
        imported=report.imported,
        rejected_rows=report.rejected_rows,
        problems=[ImportProblem.model_validate(p, from_attributes=True) for p in report.problems],
    )


@opt_outs.post(
    "",
    status_code=201,
    response_model=OptOutView,
    responses={
        200: {"model": OptOutView, "description": "The number was opted out already"},
        **error_responses(401, 403, 422, 503),
    },
)
async def opt_out(body: OptOutCreate, deps: DepsDep, key: Writer, response: Response) -> OptOutView:
    """Never message this number again from this business: every audience's contact with it
    is left out of later broadcasts."""
    opted_out, created = await audiences.opt_out(deps, key.business_id, body.phone)
    if not created:
        response.status_code = 200
    return OptOutView(
        phone=opted_out.phone,
        reason=opted_out.reason,
        source=opted_out.source,
        opted_out_at=opted_out.at,
    )


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        msg = f"an import is at most {limit} bytes; split the file"
        raise TooLarge(msg)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            msg = f"an import is at most {limit} bytes; split the file"
            raise TooLarge(msg)
        chunks.append(chunk)
    return b"".join(chunks)


def audience_view(counted: AudienceWithCount) -> AudienceView:
    audience = counted.audience
    return AudienceView(
        audience_id=audience.id,
        name=audience.name,
        description=audience.description,
        fields=list(audience.fields),
        contacts=counted.contacts,
        opted_in=counted.opted_in,
        created_at=audience.created_at,
    )


def contact_view(shown: ContactWithStatus) -> ContactView:
    contact = shown.contact
    return ContactView(
        contact_id=contact.id,
        phone=contact.phone,
        name=contact.name,
        opted_in=contact.opted_in,
        opted_in_at=contact.opted_in_at,
        fields=contact.fields,
        status=shown.status,
        source=contact.source,
        created_at=contact.created_at,
    )
