"""What makes Herald's AsyncAPI documents complete and acceptable to AsyncAPI's own parser.

`herald_localstack.asyncapi` builds each document from a service's app; this module finishes it:

- **Payloads in AsyncAPI's schema dialect.** The event JSON Schemas (`docs/events/`, draft
  2020-12, from the pydantic models) carry OpenAPI's `discriminator` object on the options union,
  which AsyncAPI's Schema Object defines as a string (the property name), so `@asyncapi/parser`
  refused the documents. Each payload is therefore the event's schema copied into
  `components.schemas` with its `$defs` beside it and the discriminator as the property name;
  `x-json-schema` names the draft 2020-12 file it is copied from.
- **Headers**: the CloudEvents Kafka binding's binary mode, `ce_*` attributes as headers
  (`herald.cloudevents`), plus the signature `post.submitted` needs (`herald.producerauth`).
- **Kafka bindings**: the message key per topic, the partition count of provisioning, and the
  consumer group of every subscriber.
- **Security**: the signed-submission scheme of `post.submitted` (ADR 0014) on the operation that
  receives it; the Kafka listener itself has no transport security (docs/security.md).
"""

from __future__ import annotations

import copy
from typing import Any

from faststream.kafka import KafkaBroker

from herald import cloudevents, producerauth
from herald.contract import schemas
from herald.topics import DEFAULT_PARTITIONS, TopicNames
from herald.tracing import CE_TRACEPARENT, CE_TRACESTATE, TRACEPARENT, TRACESTATE

NAMES = TopicNames()
BINDING = "0.4.0"  # the Kafka binding version FastStream writes on channels
SIGNED = "signedSubmission"

# What each topic's records are keyed by (the partitioning that keeps their order).
KEYS: dict[str, str] = {
    NAMES.post_submitted: "The business id (docs/events.md).",
    NAMES.post_results: "The post id.",
    NAMES.post_insights: "The post id.",
    NAMES.message_status: "The target id (a recipient's key for per-recipient events).",
    NAMES.integration_events: "The integration id.",
    "business.events": "The business id.",
}
REQUESTED_KEY = (
    "The integration id, so that one account's requests keep their order; a delayed or "
    "dead-lettered copy keeps the key of the original."
)


def _text(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def ce_headers(address: str) -> dict[str, Any]:
    """Header schema of a topic's records: CloudEvents binary mode (Kafka protocol binding)."""
    properties: dict[str, Any] = {
        "ce_specversion": {"type": "string", "const": cloudevents.SPECVERSION},
        "ce_id": _text("Unique per event; consumers drop a repeated id."),
        "ce_source": _text("The producing service (or the producer's own URI reference)."),
        "ce_type": _text("The event type, e.g. herald.post.requested.v1: names the payload."),
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": _text("The event's subject (for post.submitted: the idempotency key)."),
        "ce_businessid": _text("CloudEvents extension: the business the event belongs to."),
        CE_TRACEPARENT: _text("W3C trace context (distributed-tracing extension)."),
        CE_TRACESTATE: _text("W3C trace state (distributed-tracing extension)."),
        TRACEPARENT: _text("W3C trace context, for tracing tools that read the plain header."),
        TRACESTATE: _text("W3C trace state."),
        "content-type": {"type": "string", "const": cloudevents.JSON},
    }
    schema: dict[str, Any] = {
        "type": "object",
        "required": list(cloudevents.REQUIRED),
        "properties": properties,
    }
    if address.endswith(".dlq"):
        schema["description"] = (
            "Also x-error-* headers: why the request was given up (herald.replay reads them)."
        )
    if address == NAMES.post_submitted:
        properties["content-type"] = {
            "type": "string",
            "enum": [cloudevents.JSON, cloudevents.STRUCTURED],
            "description": (
                f"{cloudevents.STRUCTURED}: structured mode, the attributes are in the body and "
                "no ce_* header but the signature is needed."
            ),
        }
        properties[producerauth.HEADER] = {
            "type": "string",
            "pattern": producerauth.HEADER_PATTERN,
            "description": (
                "CloudEvents extension heraldsig, in binary and structured mode alike: an "
                "Ed25519 signature of the record's value by the pair derived from an API key of "
                "the business, with the posts:write scope (herald.producerauth). Without a valid "
                "one the submission is rejected (post.rejected, code unauthenticated or "
                "forbidden)."
            ),
        }
        properties["ce_businessid"] = _text("Optional; when given, the business the body names.")
        schema["required"] = [producerauth.HEADER]
        schema["description"] = (
            "Binary mode needs ce_specversion, ce_id, ce_source and ce_type besides the "
            "signature; structured mode needs only the signature."
        )
    return schema


def _key(address: str) -> str:
    if address.startswith("post.requested."):
        return REQUESTED_KEY
    return KEYS.get(address, "A string chosen by the producer.")


def _dialect(node: Any, ref_prefix: str) -> Any:
    """A draft 2020-12 schema node in AsyncAPI's dialect: string discriminator, refs moved."""
    if isinstance(node, list):
        return [_dialect(item, ref_prefix) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "discriminator" and isinstance(value, dict):
            out[key] = value["propertyName"]
        elif key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
            out[key] = ref_prefix + value.removeprefix("#/$defs/")
        elif key not in ("$defs", "$schema", "$id"):
            out[key] = _dialect(value, ref_prefix)
    return out


def payload_schemas() -> dict[str, dict[str, Any]]:
    """components.schemas: every event schema and every schema it defines, by name."""
    out: dict[str, dict[str, Any]] = {}
    prefix = "#/components/schemas/"
    for file_name, schema in schemas().items():
        event_type = file_name.removesuffix(".schema.json")
        for name, definition in schema.get("$defs", {}).items():
            converted = _dialect(definition, prefix)
            if name in out and out[name] != converted:
                msg = f"two event schemas define {name} differently: rename one model"
                raise ValueError(msg)
            out[name] = converted
        root = _dialect(schema, prefix)
        root["x-json-schema"] = f"../events/{file_name}"
        out[event_type] = root
    return out


def _payload(event_types: list[str]) -> dict[str, Any]:
    refs = [{"$ref": f"#/components/schemas/{t}"} for t in event_types]
    return refs[0] if len(refs) == 1 else {"oneOf": refs}


def complete(doc: dict[str, Any], broker: KafkaBroker, payloads: dict[str, list[str]]) -> None:
    """Payloads, headers, bindings and security on `doc`; `payloads` maps address → event types."""
    components = doc.setdefault("components", {})
    messages = components.get("messages", {})
    wanted: set[str] = set()
    groups = _groups(broker)
    for channel in doc.get("channels", {}).values():
        address = channel["address"]
        channel.setdefault("bindings", {})["kafka"] = {
            "bindingVersion": BINDING,
            "topic": address,
            "partitions": DEFAULT_PARTITIONS,
        }
        types = payloads.get(address, [])
        for ref in channel.get("messages", {}).values():
            message = messages.get(ref["$ref"].rsplit("/", 1)[-1])
            if message is None:
                continue
            if types:
                message["payload"] = _payload(types)
                wanted.update(types)
            message["headers"] = ce_headers(address)
            message["contentType"] = cloudevents.JSON
            message["bindings"] = {
                "kafka": {"bindingVersion": BINDING, "key": _text(_key(address))}
            }
    channels = doc.get("channels", {})
    for operation in doc.get("operations", {}).values():
        name = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        address = channels[name]["address"]
        if operation["action"] == "receive" and name in groups:
            operation["bindings"] = {
                "kafka": {
                    "bindingVersion": BINDING,
                    "groupId": {"type": "string", "enum": [groups[name]]},
                }
            }
        if address == NAMES.post_submitted:
            operation["security"] = [{"$ref": f"#/components/securitySchemes/{SIGNED}"}]
    if any(ch["address"] == NAMES.post_submitted for ch in channels.values()):
        components["securitySchemes"] = {SIGNED: SIGNED_SCHEME}
    every = payload_schemas()
    components["schemas"] = _closure(every, wanted)


def _groups(broker: KafkaBroker) -> dict[str, str]:
    """Channel name → the consumer group of the subscriber behind it. Keyed by channel, not
    topic: one service may read a topic in two groups (the scheduler reads message.status for
    statuses and for pricing), and keyed by topic whichever came last won."""
    out: dict[str, str] = {}
    for subscriber in broker.subscribers:
        group = getattr(subscriber, "group_id", None)
        if group:
            for name in subscriber.schema():
                out[name] = str(group)
    return out


SIGNED_SCHEME: dict[str, Any] = {
    "type": "asymmetricEncryption",
    "description": (
        f"Each post.submitted record carries {producerauth.HEADER}: t=<unix s>,keyid=<key id>,"
        "sig=<base64url Ed25519 signature> over 'herald/post.submitted/v1\\n' + key id + '\\n' + "
        "t + '\\n' + the record's value, by the key pair derived from an API key of the business "
        "(seed = HMAC-SHA256(secret, 'herald/producer-key/v1')) with the posts:write scope. "
        "ADR 0014; docs/events.md, 'Signing'. The Kafka listener itself has no transport "
        "security: who may reach it is a network matter (docs/security.md)."
    ),
}


def _closure(every: dict[str, dict[str, Any]], roots: set[str]) -> dict[str, dict[str, Any]]:
    """The named schemas reachable from `roots` (the payloads a document uses)."""
    keep: dict[str, dict[str, Any]] = {}
    todo = sorted(roots)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep[name] = copy.deepcopy(every[name])
        todo.extend(_refs(keep[name]))
    return dict(sorted(keep.items()))


def _refs(node: Any) -> list[str]:
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    if not isinstance(node, dict):
        return []
    found = [r for value in node.values() for r in _refs(value)]
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        found.append(ref.rsplit("/", 1)[-1])
    return found
