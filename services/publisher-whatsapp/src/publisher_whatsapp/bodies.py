"""`POST /{phone-number-id}/messages` bodies, as Meta's OpenAPI description of the Cloud API
defines them (`facebook/openapi`, `business-messaging-api_v23.0.yaml`, schema `Message`; the
tests validate every shape against the vendored schemas in `tests/openapi/`).

- `BaseMessageProperties` requires `messaging_product`, `recipient_type`, `to` and `type`.
- Text: `text: {body, preview_url}`. Media: `image|video|document: {id | link, caption,
  filename}` (exactly one of `id` and `link`: `MediaObject` is a `oneOf`).
- Template: `template: {name, language: {policy, code}, components}`. `LanguageObject` requires
  `policy` (`deterministic`), which Meta's own examples leave out; we send it. A component goes
  only when it has parameters (`HeaderComponent` and `ButtonComponent` need at least one); a
  button's `index` is a string.
- A recipient's own components replace the template's component of the same kind (header,
  body, or the button at the same index); the others are kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from herald.content import (
    Media,
    MediaKind,
    TemplateComponent,
    TemplateParameter,
    WhatsAppOptions,
    WhatsAppRecipient,
)
from herald.events import PostRequested, Violation
from publisher_whatsapp.domain import wa_number

_MEDIA_PARAMETERS = ("image", "video", "document")


@dataclass(frozen=True)
class Upload:
    """A file WhatsApp cannot fetch itself: Herald uploads it and sends its media id."""

    url: str
    kind: str
    mime_type: str | None
    filename: str


def options_of(request: PostRequested) -> WhatsAppOptions:
    options = request.options
    if not isinstance(options, WhatsAppOptions):  # the runtime routes only WhatsApp requests here
        msg = f"options are for {options.platform}, not whatsapp"
        raise TypeError(msg)
    return options


def message_body(
    request: PostRequested, recipient: WhatsAppRecipient, uploaded: Mapping[str, str]
) -> dict[str, Any]:
    options = options_of(request)
    base: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": wa_number(recipient.to),
    }
    if options.template is not None:
        components = merged(options.template.components, recipient.components or [])
        template: dict[str, Any] = {
            "name": options.template.name,
            "language": {"policy": "deterministic", "code": options.template.language},
        }
        rendered = [c for c in (_component(c, uploaded) for c in components) if c is not None]
        if rendered:
            template["components"] = rendered
        return base | {"type": "template", "template": template}
    content = request.content
    if content.media:
        [media] = content.media
        return base | {
            "type": media.kind.value,
            media.kind.value: _media(media, content.text, uploaded),
        }
    text = {"body": content.text or "", "preview_url": options.preview_url}
    return base | {"type": "text", "text": text}


def merged(
    shared: Sequence[TemplateComponent], own: Sequence[TemplateComponent]
) -> list[TemplateComponent]:
    """The template's components with a recipient's own in place of the same kind."""
    mine = {_key(c): c for c in own}
    result = [mine.pop(_key(c), c) for c in shared]
    return result + list(mine.values())


def _key(component: TemplateComponent) -> tuple[str, int | None]:
    return component.type, component.index if component.type == "button" else None


def _component(component: TemplateComponent, uploaded: Mapping[str, str]) -> dict[str, Any] | None:
    if not component.parameters:
        return None
    body: dict[str, Any] = {
        "type": component.type,
        "parameters": [_parameter(p, uploaded) for p in component.parameters],
    }
    if component.type == "button":
        body["sub_type"] = component.sub_type
        body["index"] = str(component.index)
    return body


def _parameter(parameter: TemplateParameter, uploaded: Mapping[str, str]) -> dict[str, Any]:
    kind = parameter.type
    if kind in _MEDIA_PARAMETERS:
        link = None if parameter.link is None else str(parameter.link)
        return {"type": kind, kind: _reference(link, parameter.media_id, uploaded)}
    if kind == "date_time":
        return {"type": kind, "date_time": {"fallback_value": parameter.text or ""}}
    if kind == "payload":
        return {"type": kind, "payload": parameter.payload or ""}
    if kind == "text":
        found: dict[str, Any] = {"type": kind, "text": parameter.text or ""}
        if parameter.parameter_name:
            found["parameter_name"] = parameter.parameter_name
        return found
    msg = f"{kind} parameters cannot be sent (refused by validate)"
    raise ValueError(msg)


def _media(media: Media, caption: str | None, uploaded: Mapping[str, str]) -> dict[str, Any]:
    found = _reference(str(media.url), None, uploaded)
    if caption:
        found["caption"] = caption
    if media.kind is MediaKind.DOCUMENT and media.filename:
        found["filename"] = media.filename
    return found


def _reference(
    link: str | None, media_id: str | None, uploaded: Mapping[str, str]
) -> dict[str, str]:
    if media_id is not None:
        return {"id": media_id}
    if link is not None and link in uploaded:
        return {"id": uploaded[link]}
    return {"link": link or ""}


def uploads(request: PostRequested, *, mode: str, private_origins: Iterable[str]) -> list[Upload]:
    """The files of a request that Herald must upload (`media.upload` setting)."""
    if mode == "never":
        return []
    private = {o.rstrip("/") for o in private_origins}
    found: dict[str, Upload] = {}
    for item in request.content.media if options_of(request).template is None else []:
        found[str(item.url)] = Upload(
            str(item.url), item.kind.value, item.mime_type, item.filename or _name(str(item.url))
        )
    for component in _all_components(options_of(request)):
        for p in component.parameters:
            if p.type in _MEDIA_PARAMETERS and p.link is not None and p.media_id is None:
                url = str(p.link)
                found.setdefault(url, Upload(url, p.type, None, _name(url)))
    if mode == "always":
        return list(found.values())
    return [u for u in found.values() if _origin(u.url) in private]


def _all_components(options: WhatsAppOptions) -> list[TemplateComponent]:
    if options.template is None:
        return []
    own = [c for r in options.recipients for c in (r.components or [])]
    return [*options.template.components, *own]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _name(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[-1] or "file"


def extra_violations(request: PostRequested, *, max_recipients: int) -> list[Violation]:
    """What the shared rules allow but the Cloud API v23 description cannot carry."""
    options = options_of(request)
    found: list[Violation] = []
    if len(options.recipients) > max_recipients:
        found.append(
            Violation(
                path="options.recipients",
                code="too_many",
                message=f"A WhatsApp batch takes at most {max_recipients} recipients; this one "
                f"has {len(options.recipients)}. Split it into several.",
            )
        )
    for where, component in _located(options):
        if component.type == "button" and component.sub_type == "copy_code":
            found.append(
                Violation(
                    path=f"{where}.sub_type",
                    code="not_allowed",
                    message="Copy-code buttons are not in the Cloud API description Herald "
                    "follows (quick_reply, url, catalog); use a URL or quick-reply button.",
                )
            )
        for k, p in enumerate(component.parameters):
            found.extend(_parameter_violations(p, f"{where}.parameters[{k}]"))
    return found


def _parameter_violations(parameter: TemplateParameter, path: str) -> list[Violation]:
    if parameter.type == "currency":
        message = (
            "Currency parameters need an amount and an ISO code, which Herald's template "
            "parameters do not carry yet; send the amount as a text parameter."
        )
        return [Violation(path=f"{path}.type", code="not_allowed", message=message)]
    if parameter.type == "date_time" and not parameter.text:
        message = "A date_time parameter needs its text (what WhatsApp shows)."
        return [Violation(path=f"{path}.text", code="required", message=message)]
    return []


def _located(options: WhatsAppOptions) -> list[tuple[str, TemplateComponent]]:
    if options.template is None:
        return []
    found = [
        (f"options.template.components[{j}]", c) for j, c in enumerate(options.template.components)
    ]
    for i, recipient in enumerate(options.recipients):
        for j, c in enumerate(recipient.components or []):
            found.append((f"options.recipients[{i}].components[{j}]", c))
    return found
