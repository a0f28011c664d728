"""Reading a `POST /{phone-number-id}/messages` body as Meta's OpenAPI description of the
Cloud API (`business-messaging-api_v23.0.yaml`, schema `Message`) defines it, for the types
Herald sends: text, image, video, audio, document, sticker and template (others are accepted
with their object present). Errors use the Cloud API codes: 100 for a malformed request, 131008
for a missing parameter, 131009 for an invalid value, 131051 for an unknown type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from platform_sandbox.graph import GraphParams
from platform_sandbox.graph_errors import GraphError

_NOT_DIGITS = re.compile(r"\D")
MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
OTHER_TYPES = frozenset({"location", "contacts", "interactive", "reaction"})
_CAPTIONED = frozenset({"image", "video", "document"})


def missing(name: str) -> GraphError:
    return GraphError(
        131008, "Required parameter is missing", details=f"The parameter {name} is required."
    )


def invalid(details: str) -> GraphError:
    return GraphError(131009, "Parameter value is not valid", details=details)


@dataclass(frozen=True)
class MediaRef:
    kind: str
    id: str | None
    link: str | None


@dataclass(frozen=True)
class TemplateUse:
    name: str
    language: str
    components: list[dict[str, Any]]


@dataclass
class Outbound:
    to: str
    wa_id: str
    type: str
    texts: list[str] = field(default_factory=list)
    media: list[MediaRef] = field(default_factory=list)
    template: TemplateUse | None = None
    biz_opaque_callback_data: str | None = None


@dataclass(frozen=True)
class ReadReceipt:
    message_id: str


def parse_outbound(params: GraphParams, text_max: int) -> Outbound | ReadReceipt:
    if params.text("messaging_product") is None:
        raise GraphError(100, "The parameter messaging_product is required.")
    if params.text("messaging_product") != "whatsapp":
        raise GraphError(100, "Param messaging_product must be whatsapp")
    if params.text("status") == "read":
        message_id = params.text("message_id")
        if not message_id:
            raise missing("message_id")
        return ReadReceipt(message_id)
    recipient_type = params.text("recipient_type") or "individual"
    if recipient_type != "individual":
        raise invalid("Only recipient_type individual is available in the platform sandbox.")
    to = params.text("to")
    if not to:
        raise missing("to")
    wa_id = _NOT_DIGITS.sub("", to)
    if not wa_id or len(wa_id) > 15:
        raise invalid("The parameter to must be a phone number in E.164 format.")
    kind = params.text("type") or "text"
    message = Outbound(
        to, wa_id, kind, biz_opaque_callback_data=params.text("biz_opaque_callback_data")
    )
    _read_payload(message, params.decoded(kind), text_max)
    return message


def _read_payload(message: Outbound, payload: Any, text_max: int) -> None:
    kind = message.type
    if kind not in MEDIA_TYPES | OTHER_TYPES | {"text", "template"}:
        raise GraphError(
            131051, "Unsupported message type", details=f"Message type {kind} is not supported."
        )
    if not isinstance(payload, dict):
        raise missing(kind)
    if kind == "text":
        body = payload.get("body")
        if not isinstance(body, str) or not body:
            raise missing("text['body']")
        if len(body) > text_max:
            raise invalid(f"Param text['body'] must be at most {text_max} characters long.")
        message.texts.append(body)
    elif kind in MEDIA_TYPES:
        message.media.append(media_ref(kind, payload))
        caption = payload.get("caption")
        if isinstance(caption, str) and kind in _CAPTIONED:
            message.texts.append(caption)
    elif kind == "template":
        message.template = _template(payload)
        message.texts.extend(_template_texts(message.template))
        message.media.extend(_template_media(message.template))


def media_ref(kind: str, payload: Any) -> MediaRef:
    if not isinstance(payload, dict):
        raise missing(kind)
    media_id, link = payload.get("id"), payload.get("link")
    if (media_id is None) == (link is None):
        raise invalid(f"Param {kind} must have exactly one of id or link.")
    if link is not None and (
        not isinstance(link, str) or not link.startswith(("http://", "https://"))
    ):
        raise invalid(f"Param {kind}['link'] must be an HTTP or HTTPS URL.")
    return MediaRef(kind, None if media_id is None else str(media_id), link)


def _template(payload: dict[str, Any]) -> TemplateUse:
    name = payload.get("name")
    language = payload.get("language")
    if not isinstance(name, str) or not name:
        raise missing("template['name']")
    if not isinstance(language, dict) or not isinstance(language.get("code"), str):
        raise missing("template['language']['code']")
    components = payload.get("components") or []
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise invalid("Param template['components'] must be an array of objects.")
    for component in components:
        if component.get("type") not in ("header", "body", "button", "footer"):
            raise invalid("Param template['components'][]['type'] must be header, body or button.")
        if not isinstance(component.get("parameters", []), list):
            raise invalid("Param template['components'][]['parameters'] must be an array.")
    return TemplateUse(name, language["code"], components)


def _template_texts(template: TemplateUse) -> list[str]:
    return [
        parameter["text"]
        for component in template.components
        for parameter in component.get("parameters", [])
        if isinstance(parameter, dict) and isinstance(parameter.get("text"), str)
    ]


def _template_media(template: TemplateUse) -> list[MediaRef]:
    refs = []
    for component in template.components:
        if component.get("type") != "header":
            continue
        for parameter in component.get("parameters", []):
            kind = parameter.get("type") if isinstance(parameter, dict) else None
            if kind in ("image", "video", "document"):
                refs.append(media_ref(kind, parameter.get(kind)))
    return refs
