"""Request and response bodies of audiences, contacts, imports, opt-outs and the recipients of
WhatsApp posts (the OpenAPI document is generated from these)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StrictBool

from herald.inputs import ApiBody
from scheduler.api.schemas import Moment
from scheduler.contacts import MAX_FIELDS, MAX_NAME, MAX_VALUE, ContactStatus
from scheduler.deliveries import RecipientState

FieldName = Annotated[str, Field(min_length=1, max_length=40, examples=["city"])]


class AudienceCreate(ApiBody):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    fields: list[FieldName] = Field(
        default_factory=list,
        max_length=MAX_FIELDS,
        description="Custom contact fields (lowercase, digits, _), usable in templates as "
        "{{contact.<field>}} besides phone, name and first_name.",
    )


class AudienceView(BaseModel):
    audience_id: str
    name: str
    description: str | None
    fields: list[str]
    contacts: int = Field(description="Contacts in the audience, whatever their status.")
    opted_in: int = Field(
        description="Of them, those who agreed to WhatsApp messages (`opted_in`); a broadcast "
        "still leaves out any of these the business has opted out since."
    )
    created_at: AwareDatetime


class AudiencePage(BaseModel):
    items: list[AudienceView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: done.")


class ContactCreate(ApiBody):
    phone: str = Field(min_length=1, max_length=32, examples=["+351912345678"])
    name: str | None = Field(default=None, max_length=MAX_NAME)
    opted_in: StrictBool = Field(description="Whether the person agreed to WhatsApp messages.")
    opted_in_at: Moment | None = Field(default=None, description="When they agreed, if known.")
    fields: dict[str, Annotated[str, Field(max_length=MAX_VALUE)]] = Field(
        default_factory=dict, max_length=MAX_FIELDS, description="Values of the custom fields."
    )


class ContactView(BaseModel):
    contact_id: str
    phone: str
    name: str | None
    opted_in: bool
    opted_in_at: AwareDatetime | None
    fields: dict[str, str]
    status: ContactStatus = Field(
        description="subscribed (sent broadcasts), not_opted_in, opted_out or undeliverable."
    )
    source: str = Field(description="api or import")
    created_at: AwareDatetime


class ContactPage(BaseModel):
    items: list[ContactView]
    next_cursor: str | None


class ImportProblem(BaseModel):
    line: int = Field(description="The line of the file the row starts on (the header is 1).")
    row: int = Field(description="The row's position among the data rows, from 1.")
    field: str | None = Field(description="The column or key the problem is about.")
    code: str = Field(
        examples=["invalid_phone", "missing_opt_in", "duplicate", "unknown_column"],
    )
    message: str


class ImportReport(BaseModel):
    rows: int = Field(description="Data rows read.")
    imported: int
    rejected_rows: int
    problems: list[ImportProblem] = Field(description="Every problem of every rejected row.")


class OptOutCreate(ApiBody):
    phone: str = Field(min_length=1, max_length=32, examples=["+351912345678"])


class OptOutView(BaseModel):
    phone: str
    reason: str
    source: str
    opted_out_at: AwareDatetime


class RecipientItem(BaseModel):
    recipient_id: str
    contact_id: str | None
    to: str = Field(description="The number, masked: +351*****5678.")
    target_id: str | None = Field(description="The batch (target) that carries it.")
    state: RecipientState
    message_id: str | None
    error_code: str | None
    error_message: str | None
    updated_at: AwareDatetime | None


class RecipientPage(BaseModel):
    items: list[RecipientItem]
    next_cursor: str | None


class RecipientQuery(ApiBody):
    limit: int = Field(default=100, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=512)
    state: RecipientState | None = Field(default=None, description="Only recipients in it.")
