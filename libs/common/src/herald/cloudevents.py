"""CloudEvents 1.0 over Kafka: binary mode on produce; binary and structured mode on consume.

Binary mode (the Kafka protocol binding): attributes travel as `ce_*` headers, the body is the
event's JSON. Structured mode (`content-type: application/cloudevents+json`): the body is one JSON
object holding the attributes and `data`; only accepted from outside systems (`post.submitted`).
Every header value is UTF-8 text. Decoding failures raise `InvalidEvent` with a reason that names
the header or field, for the dead-letter topic. Trace context (W3C `traceparent`/`tracestate`)
travels both as those headers and as the distributed-tracing extension (`ce_traceparent`,
`ce_tracestate`; in structured mode the `traceparent`/`tracestate` attributes): `herald.tracing`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from herald.errors import InvalidEvent
from herald.events import EVENT_TYPES, Event
from herald.tracing import TRACEPARENT, TRACESTATE, TraceContext

E = TypeVar("E", bound=Event)

SPECVERSION = "1.0"
JSON = "application/json"
STRUCTURED = "application/cloudevents+json"
REQUIRED = ("ce_specversion", "ce_id", "ce_source", "ce_type")


@dataclass(frozen=True)
class Envelope:
    """A decoded event with its CloudEvents attributes."""

    id: str
    source: str
    type: str
    time: datetime | None
    subject: str | None
    business_id: str | None
    event: Event
    trace: TraceContext | None = None


def encode(
    event: Event,
    *,
    source: str,
    business_id: str | None = None,
    event_id: str | None = None,
    time: datetime | None = None,
    trace: TraceContext | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> tuple[bytes, dict[str, str]]:
    """Body and headers for producing `event` in binary mode."""
    headers = {
        "ce_specversion": SPECVERSION,
        "ce_id": event_id or str(uuid.uuid4()),
        "ce_source": source,
        "ce_type": event.event_type,
        "ce_time": (time or datetime.now(UTC)).isoformat(),
        "content-type": JSON,
    }
    if event.subject is not None:
        headers["ce_subject"] = event.subject
    business = business_id or getattr(event, "business_id", None)
    if business:
        headers["ce_businessid"] = str(business)
    if trace is not None:
        headers.update(trace.event_headers())
    if extra_headers:
        headers.update(extra_headers)
    return event.model_dump_json(exclude_none=False).encode(), headers


def decode(
    body: bytes,
    headers: Mapping[str, str],
    *,
    accept_structured: bool = False,
    expect: tuple[type[Event], ...] = (),
) -> Envelope:
    """Decode a Kafka message into an `Envelope`, or raise `InvalidEvent` saying what is wrong."""
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type", "").split(";")[0].strip()
    if content_type == STRUCTURED:
        if not accept_structured:
            raise InvalidEvent("structured-mode CloudEvents are not accepted on this topic")
        return _decode_structured(body, lowered, expect)
    return _decode_binary(body, lowered, expect)


def _decode_binary(
    body: bytes, headers: dict[str, str], expect: tuple[type[Event], ...]
) -> Envelope:
    missing = [h for h in REQUIRED if not headers.get(h)]
    if missing:
        raise InvalidEvent(
            f"missing CloudEvents header(s): {', '.join(missing)}", code="bad_headers"
        )
    if headers["ce_specversion"] != SPECVERSION:
        raise InvalidEvent(
            f"ce_specversion {headers['ce_specversion']!r} is not supported (expected 1.0)",
            code="bad_headers",
        )
    content_type = headers.get("content-type", JSON).split(";")[0].strip()
    if content_type != JSON:
        raise InvalidEvent(f"content-type {content_type!r} is not {JSON}", code="bad_headers")
    cls = _event_class(headers["ce_type"], expect)
    return Envelope(
        id=headers["ce_id"],
        source=headers["ce_source"],
        type=headers["ce_type"],
        time=_parse_time(headers.get("ce_time"), "ce_time"),
        subject=headers.get("ce_subject"),
        business_id=headers.get("ce_businessid"),
        event=_validate(cls, _load_json(body)),
        trace=TraceContext.from_headers(headers),
    )


def _decode_structured(
    body: bytes, headers: dict[str, str], expect: tuple[type[Event], ...]
) -> Envelope:
    document = _load_json(body)
    if not isinstance(document, dict):
        raise InvalidEvent("a structured CloudEvent must be a JSON object", code="not_json")
    missing = [a for a in ("specversion", "id", "source", "type") if not document.get(a)]
    if missing:
        raise InvalidEvent(
            f"missing CloudEvents attribute(s): {', '.join(missing)}", code="bad_headers"
        )
    if document["specversion"] != SPECVERSION:
        raise InvalidEvent(
            f"specversion {document['specversion']!r} is not supported", code="bad_headers"
        )
    datacontenttype = document.get("datacontenttype", JSON)
    if datacontenttype != JSON:
        raise InvalidEvent(f"datacontenttype {datacontenttype!r} is not {JSON}", code="bad_headers")
    if "data" not in document:
        raise InvalidEvent("a structured CloudEvent needs a data member", code="invalid_event")
    cls = _event_class(str(document["type"]), expect)
    return Envelope(
        id=str(document["id"]),
        source=str(document["source"]),
        type=str(document["type"]),
        time=_parse_time(document.get("time"), "time"),
        subject=document.get("subject"),
        business_id=document.get("businessid"),
        event=_validate(cls, document["data"]),
        trace=TraceContext.from_headers(headers) or _document_trace(document),
    )


def _document_trace(document: dict[str, Any]) -> TraceContext | None:
    carrier = {k: str(document[k]) for k in (TRACEPARENT, TRACESTATE) if document.get(k)}
    return TraceContext.parse(carrier) if TRACEPARENT in carrier else None


def _event_class(ce_type: str, expect: tuple[type[Event], ...]) -> type[Event]:
    # A type outside the shared table (herald.notices) is known to a consumer that expects it.
    cls = EVENT_TYPES.get(ce_type) or next((e for e in expect if e.event_type == ce_type), None)
    if cls is None:
        raise InvalidEvent(f"unknown event type {ce_type!r}", code="unknown_type")
    if expect and cls not in expect:
        wanted = ", ".join(e.event_type for e in expect)
        raise InvalidEvent(
            f"event type {ce_type!r} does not belong here (expected {wanted})", code="unknown_type"
        )
    return cls


def _load_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent(f"body is not JSON: {exc}", code="not_json") from exc
    except RecursionError as exc:  # the parser recurses once per level of nesting
        raise InvalidEvent("body is nested too deeply to be an event", code="not_json") from exc


def _validate(cls: type[E], data: Any) -> E:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise InvalidEvent(describe(exc), code="invalid_event") from exc


def describe(exc: ValidationError, limit: int = 10) -> str:
    """'content.text: String should have at most 10 characters; targets: Field required'."""
    parts = []
    for error in exc.errors()[:limit]:
        path = ".".join(str(p) for p in error["loc"]) or "(body)"
        parts.append(f"{path}: {error['msg']}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def _parse_time(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidEvent(f"{name} {value!r} is not an RFC 3339 time", code="bad_headers") from exc
