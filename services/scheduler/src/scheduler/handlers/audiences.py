"""Audiences and their contacts: create, read, delete; add one contact or import many (CSV or
JSON, every bad row reported by line while the good ones are imported); opt a number out
(docs/adr/0008-audiences-broadcasts-and-delivery-statuses.md).

A contact is inserted, never updated: the unique (audience, phone) index decides between two
imports of one number. An opt-out is a suppression of the number for the whole business (a
person who says stop means every list), inserted once per reason.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from herald.events import Violation
from scheduler.contacts import (
    STANDARD,
    Audience,
    Contact,
    ContactData,
    ContactStatus,
    Suppression,
    check_field_names,
    contact_status,
    normalize_phone,
    read_contact,
)
from scheduler.errors import Conflict, NotFound, Rejected
from scheduler.handlers.base import Deps
from scheduler.imports import (
    Accepted,
    ImportPlan,
    RowProblem,
    UnreadableFile,
    check_rows,
    parse,
)

INSERT_CHUNK = 1000


@dataclass(frozen=True)
class AudienceWithCount:
    audience: Audience
    contacts: int
    opted_in: int = 0


@dataclass(frozen=True)
class ContactWithStatus:
    contact: Contact
    status: ContactStatus


@dataclass
class ImportReport:
    rows: int
    imported: int
    rejected_rows: int
    problems: list[RowProblem] = field(default_factory=list)


async def create_audience(
    deps: Deps, business_id: str, name: str, description: str | None, fields: Sequence[str]
) -> AudienceWithCount:
    problems = check_field_names(list(fields))
    if problems:
        raise Rejected([Violation(path=p.field, message=p.message, code=p.code) for p in problems])
    audience = Audience(
        id=f"au_{uuid.uuid4().hex[:24]}",
        business_id=business_id,
        name=name,
        description=description,
        fields=tuple(fields),
        created_at=deps.clock(),
    )
    await deps.audiences.insert_audience(audience)
    return AudienceWithCount(audience, 0)


async def owned_audience(deps: Deps, business_id: str, audience_id: str) -> AudienceWithCount:
    audience = await deps.audiences.get_audience(business_id, audience_id)
    if audience is None:
        msg = f"no audience {audience_id} in this business"
        raise NotFound(msg)
    counts = await deps.audiences.count_contacts([audience_id])
    opted = await deps.audiences.count_contacts([audience_id], opted_in_only=True)
    return AudienceWithCount(audience, counts.get(audience_id, 0), opted.get(audience_id, 0))


async def list_audiences(
    deps: Deps, business_id: str, after: str | None, limit: int
) -> tuple[list[AudienceWithCount], str | None]:
    found = await deps.audiences.list_audiences(business_id, after, limit + 1)
    page = found[:limit]
    ids = [a.id for a in page]
    counts = await deps.audiences.count_contacts(ids)
    opted = await deps.audiences.count_contacts(ids, opted_in_only=True)
    items = [AudienceWithCount(a, counts.get(a.id, 0), opted.get(a.id, 0)) for a in page]
    return items, (page[-1].id if len(found) > limit else None)


async def delete_audience(deps: Deps, business_id: str, audience_id: str) -> None:
    """Its contacts go with it; a broadcast to it not yet expanded then fails, saying so."""
    await owned_audience(deps, business_id, audience_id)
    await deps.audiences.delete_audience(audience_id)


async def add_contact(
    deps: Deps,
    business_id: str,
    audience_id: str,
    standard: Mapping[str, Any],
    fields: Mapping[str, Any],
) -> ContactWithStatus:
    """One contact from the API: the standard fields, and custom ones under `fields`."""
    audience = (await owned_audience(deps, business_id, audience_id)).audience
    violations = [
        Violation(path=f"fields.{k}", message=f"{k} is a built-in field.", code="reserved")
        for k in fields
        if k in STANDARD
    ]
    read = read_contact({**fields, **standard}, audience.fields)
    if isinstance(read, list):
        violations += [
            Violation(
                path=p.field if p.field in STANDARD else f"fields.{p.field}",
                message=p.message,
                code=p.code,
            )
            for p in read
        ]
    if violations or isinstance(read, list):
        raise Rejected(violations)
    contact = _contact(deps, audience, read, source="api")
    if await deps.audiences.insert_contacts([contact]):
        msg = f"{read.phone} is already in this audience"
        raise Conflict(msg)
    return await _with_status(deps, business_id, contact)


async def import_contacts(
    deps: Deps, business_id: str, audience_id: str, data: bytes, media_type: str, *, max_rows: int
) -> ImportReport:
    audience = (await owned_audience(deps, business_id, audience_id)).audience
    try:  # CPU-bound and linear in the file's size: in a thread, so the loop keeps serving
        plan = await asyncio.to_thread(_read, data, media_type, max_rows, audience.fields)
    except UnreadableFile as bad:
        message = f"Line {bad.line}: {bad.message}"
        raise Rejected([Violation(path="(body)", message=message, code=bad.code)]) from bad
    problems = list(plan.problems)
    imported = 0
    for start in range(0, len(plan.accepted), INSERT_CHUNK):
        chunk = plan.accepted[start : start + INSERT_CHUNK]
        contacts = [_contact(deps, audience, a.contact, source="import") for a in chunk]
        existed = await deps.audiences.insert_contacts(contacts)
        imported += len(chunk) - len(existed)
        problems.extend(_already_there(chunk[i]) for i in sorted(existed))
    problems.sort(key=lambda p: (p.line, p.row))
    return ImportReport(plan.rows, imported, len({p.row for p in problems}), problems)


def _read(data: bytes, media_type: str, max_rows: int, fields: Sequence[str]) -> ImportPlan:
    return check_rows(parse(data, media_type, max_rows=max_rows), fields)


async def contacts_page(
    deps: Deps, business_id: str, audience_id: str, after: str | None, limit: int
) -> tuple[list[ContactWithStatus], str | None]:
    """Contacts in phone order, each with its status (opted out and undeliverable numbers of
    the business included)."""
    await owned_audience(deps, business_id, audience_id)
    found = await deps.audiences.contacts_page(audience_id, after, limit + 1)
    page = found[:limit]
    flags = await deps.audiences.flags(business_id, [c.phone for c in page])
    items = [
        ContactWithStatus(c, contact_status(c.opted_in, flags.get(c.phone, set()))) for c in page
    ]
    return items, (page[-1].phone if len(found) > limit else None)


async def delete_contact(deps: Deps, business_id: str, audience_id: str, contact_id: str) -> None:
    await owned_audience(deps, business_id, audience_id)
    if await deps.audiences.get_contact(audience_id, contact_id) is None:
        msg = f"no contact {contact_id} in this audience"
        raise NotFound(msg)
    await deps.audiences.delete_contact(contact_id)


async def opt_out(deps: Deps, business_id: str, raw_phone: str) -> tuple[Suppression, bool]:
    """Suppress a number for every audience and broadcast of the business; (it, whether new)."""
    phone = normalize_phone(raw_phone)
    if phone is None:
        message = "A phone number in E.164: + then the country code and number."
        raise Rejected([Violation(path="phone", message=message, code="invalid_phone")])
    opted_out = Suppression(business_id, phone, "opted_out", "api", deps.clock(), detail={})
    created = await deps.audiences.add_suppression(opted_out)
    return opted_out, created


def _contact(deps: Deps, audience: Audience, data: ContactData, *, source: str) -> Contact:
    return Contact(
        id=f"ct_{uuid.uuid4().hex[:24]}",
        audience_id=audience.id,
        business_id=audience.business_id,
        phone=data.phone,
        name=data.name,
        opted_in=data.opted_in,
        opted_in_at=data.opted_in_at,
        fields=data.fields,
        source=source,
        created_at=deps.clock(),
    )


async def _with_status(deps: Deps, business_id: str, contact: Contact) -> ContactWithStatus:
    flags = await deps.audiences.flags(business_id, [contact.phone])
    return ContactWithStatus(
        contact, contact_status(contact.opted_in, flags.get(contact.phone, set()))
    )


def _already_there(accepted: Accepted) -> RowProblem:
    message = f"{accepted.contact.phone} is already in this audience."
    return RowProblem(accepted.line, accepted.row, "phone", "duplicate", message)
