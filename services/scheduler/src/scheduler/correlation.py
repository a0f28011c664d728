"""Who a refused submission came from, read from its body when the event itself would not decode.

A `post.submitted` that fails validation (or is not a CloudEvent at all) is still kept and
answered; when its JSON names the business and the idempotency key (binary mode: at the top;
structured mode: under `data`), the rejection carries them so the producer can match it to what
it sent (ADR 0021). Nothing here trusts the values: they only label the rejection.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from herald.cloudevents import Envelope

MAX_FIELD = 255


@dataclass(frozen=True)
class Identity:
    business_id: str | None = None
    idempotency_key: str | None = None


def readable_identity(body: bytes, headers: dict[str, str]) -> Identity:
    """The business and idempotency key the body (or the `ce_businessid` header) names."""
    found = _parsed(body)
    data = found.get("data") if isinstance(found.get("data"), dict) else None
    sources = [d for d in (found, data) if isinstance(d, dict)]
    business = _first(sources, "business_id") or _text(found.get("businessid"))
    business = business or _text(headers.get("ce_businessid"))
    return Identity(business, _first(sources, "idempotency_key"))


def _parsed(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _first(sources: list[dict[str, Any]], name: str) -> str | None:
    for source in sources:
        value = _text(source.get(name))
        if value is not None:
            return value
    return None


def _text(value: object) -> str | None:
    """A usable label: a non-empty string of printable characters, at most 255 long."""
    if not isinstance(value, str) or not value or len(value) > MAX_FIELD:
        return None
    if not value.isprintable():
        return None
    return value


def rejected_identity(
    envelope: Envelope | None, body: bytes, headers: dict[str, str]
) -> tuple[str | None, str | None]:
    """The business and key of a refused submission: the decoded event's, else the body's."""
    submission = envelope.event if envelope is not None else None
    readable = readable_identity(body, headers)
    business = getattr(submission, "business_id", None) or readable.business_id
    key = getattr(submission, "idempotency_key", None) or readable.idempotency_key
    return business, key
