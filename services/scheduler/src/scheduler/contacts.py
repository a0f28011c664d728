"""Contacts of an audience, as pure rules: a phone number in E.164, a name, the opt-in (flag and
time), custom fields the audience declares, and whether a contact may be messaged
(docs/adr/0008-audiences-broadcasts-and-delivery-statuses.md).

The same reading serves a CSV line, a JSON import row and the single-contact API, so a value is
refused for the same reason wherever it comes from. Every problem names the field it is about.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from herald.inputs import is_storable, moment_problem

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
# Spaces, dots, dashes and parentheses people write inside numbers; nothing else is dropped.
_SEPARATORS = re.compile(r"[\s().\-]")
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
STANDARD = ("phone", "name", "opted_in", "opted_in_at")
# Values a template can use besides the audience's own fields (see scheduler.personalize).
DERIVED = ("first_name",)
RESERVED = frozenset({*STANDARD, *DERIVED, "contact_id", "fields"})
MAX_FIELDS = 20
MAX_NAME = 200
MAX_VALUE = 1024
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


class ContactStatus(StrEnum):
    SUBSCRIBED = "subscribed"
    NOT_OPTED_IN = "not_opted_in"
    OPTED_OUT = "opted_out"
    UNDELIVERABLE = "undeliverable"


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    message: str


@dataclass(frozen=True)
class ContactData:
    phone: str
    opted_in: bool
    name: str | None = None
    opted_in_at: datetime | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Audience:
    id: str
    business_id: str
    name: str
    description: str | None
    fields: tuple[str, ...]  # custom contact fields, usable in templates
    created_at: datetime


@dataclass(frozen=True)
class Contact:
    id: str
    audience_id: str
    business_id: str
    phone: str  # E.164
    opted_in: bool
    source: str  # api or import
    created_at: datetime
    name: str | None = None
    opted_in_at: datetime | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Suppression:
    """A number the business must not message again, and why (one per reason)."""

    business_id: str
    phone: str
    reason: str  # opted_out or undeliverable
    source: str  # api or whatsapp
    at: datetime
    detail: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.business_id}:{self.phone}:{self.reason}"


def normalize_phone(raw: str) -> str | None:
    """`raw` in E.164 (`+` and 7 to 15 digits, separators allowed), or None."""
    compact = _SEPARATORS.sub("", raw)
    return compact if E164.fullmatch(compact) else None


def check_field_names(names: Sequence[str]) -> list[Problem]:
    """Problems with an audience's declared custom fields, each at `fields[i]`."""
    found: list[Problem] = []
    if len(names) > MAX_FIELDS:
        found.append(Problem("fields", "too_many", f"An audience has at most {MAX_FIELDS} fields."))
    for i, name in enumerate(names):
        path = f"fields[{i}]"
        if not FIELD_NAME.fullmatch(name):
            message = "A field name is lowercase letters, digits and _ (at most 40), e.g. city."
            found.append(Problem(path, "invalid_format", message))
        elif name in RESERVED:
            found.append(Problem(path, "reserved", f"{name} is a built-in contact field."))
        elif name in names[:i]:
            found.append(Problem(path, "duplicate", f"{name} is declared twice."))
    return found


def read_contact(row: Mapping[str, Any], fields: Collection[str]) -> ContactData | list[Problem]:
    """A contact from one row (keys lowercase: the standard fields and custom fields), or every
    problem with it. An unknown key with a value is a problem; an empty one is ignored."""
    problems: list[Problem] = []
    phone = _phone(row.get("phone"), problems)
    opted_in = _opt_in(row.get("opted_in"), problems)
    name = _text(row.get("name"), "name", MAX_NAME, problems)
    opted_at = _moment(row.get("opted_in_at"), problems)
    custom: dict[str, str] = {}
    for key, value in row.items():
        if key in STANDARD or _blank(value):
            continue
        if key not in fields:
            message = f"{key} is not a field of this audience (its fields: {_names(fields)})."
            problems.append(Problem(key, "unknown_column", message))
            continue
        text = _text(value, key, MAX_VALUE, problems)
        if text is not None:
            custom[key] = text
    if problems or phone is None or opted_in is None:
        return problems
    return ContactData(phone, opted_in, name, opted_at, custom)


def contact_status(opted_in: bool, flags: Collection[str]) -> ContactStatus:
    """Whether a contact may be messaged: it opted in, and WhatsApp or the person never said
    otherwise (an opt-out outranks an undeliverable number)."""
    if "opted_out" in flags:
        return ContactStatus.OPTED_OUT
    if "undeliverable" in flags:
        return ContactStatus.UNDELIVERABLE
    return ContactStatus.SUBSCRIBED if opted_in else ContactStatus.NOT_OPTED_IN


def template_values(contact: Contact) -> dict[str, str]:
    """What a template placeholder `{{contact.<key>}}` may use for this stored contact."""
    values = {k: str(v) for k, v in contact.fields.items() if v}
    values["phone"] = contact.phone
    name = (contact.name or "").strip()
    if name:
        values["name"] = name
        values["first_name"] = name.split()[0]
    return values


def _phone(value: Any, problems: list[Problem]) -> str | None:
    if _blank(value):
        problems.append(Problem("phone", "missing_phone", "Every contact needs a phone number."))
        return None
    phone = normalize_phone(str(value)) if isinstance(value, str | int) else None
    if phone is None:
        message = (
            f"{str(value)[:40]!r} is not a phone number in E.164: + then the country code and "
            "number, 8 to 16 characters, e.g. +351912345678."
        )
        problems.append(Problem("phone", "invalid_phone", message))
    return phone


def _opt_in(value: Any, problems: list[Problem]) -> bool | None:
    if _blank(value):
        message = "Say whether the person opted in to WhatsApp messages (opted_in: true/false)."
        problems.append(Problem("opted_in", "missing_opt_in", message))
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    message = f"{str(value)[:40]!r} is not true or false (yes/no and 1/0 are read too)."
    problems.append(Problem("opted_in", "invalid_opt_in", message))
    return None


def _moment(value: Any, problems: list[Problem]) -> datetime | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is None and len(str(value).strip()) > 10:
            moment = None  # a time of day without an offset is ambiguous; a date alone is not
    if moment is None:
        message = "opted_in_at is an ISO 8601 date or date-time with offset, e.g. 2026-05-01."
        problems.append(Problem("opted_in_at", "invalid_opted_in_at", message))
        return None
    problem = moment_problem(moment)  # before converting: year 1 at +01:00 is before year 1 UTC
    if problem is not None:
        problems.append(Problem("opted_in_at", "out_of_range", f"opted_in_at is {problem}."))
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _text(value: Any, name: str, limit: int, problems: list[Problem]) -> str | None:
    if _blank(value):
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        problems.append(
            Problem(name, "invalid_value", f"{name} is text, not {type(value).__name__}.")
        )
        return None
    text = str(value).strip()
    if not is_storable(text):
        message = f"{name} must be valid Unicode text without NUL characters."
        problems.append(Problem(name, "invalid_text", message))
        return None
    if len(text) > limit:
        problems.append(Problem(name, "too_long", f"{name} has at most {limit} characters."))
        return None
    return text


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _names(fields: Collection[str]) -> str:
    return ", ".join(sorted(fields)) or "none declared"
