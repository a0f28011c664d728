"""WhatsApp template messages: the name and language, and the parameters of each component,
both the template's own and each recipient's (§3.2 Template).

Whether the parameters match the approved template (132000) is only known to WhatsApp; these
rules catch what is wrong whatever the template is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from herald.content import TemplateComponent, TemplateParameter, WhatsAppOptions
from herald.events import Violation
from herald.rules.common import Code, Where, a, check_length, join, plural, violation
from herald.rules.limits import WhatsAppLimits

# Component type -> parameter types it takes (§3.2: header text|image|video|document, body
# text|currency|date_time). Buttons depend on their sub_type, below.
_COMPONENT_TYPES: dict[str, tuple[str, ...]] = {
    "header": ("text", "image", "video", "document"),
    "body": ("text", "currency", "date_time"),
}
# §3.2: a quick reply button takes a payload, a URL button the text of its URL suffix.
_BUTTON_TYPES: dict[str, tuple[str, ...]] = {"quick_reply": ("payload",), "url": ("text",)}
_MEDIA_TYPES = ("image", "video", "document")


def check_template(
    options: WhatsAppOptions, where: Where, limits: WhatsAppLimits
) -> list[Violation]:
    template = options.template
    if template is None:
        return []
    base = where.option("template")
    found = [
        *_check_pattern(
            template.name,
            limits.template_name_pattern,
            join(base, "name"),
            "WhatsApp template names use lowercase letters, digits and underscores",
        ),
        *_check_pattern(
            template.language,
            limits.template_language_pattern,
            join(base, "language"),
            "WhatsApp template languages are codes like en or en_US, with an underscore",
        ),
        *_check_components(template.components, join(base, "components"), limits),
    ]
    for i, recipient in enumerate(options.recipients):
        if recipient.components is not None:
            path = where.option("recipients", i, "components")
            found.extend(_check_components(recipient.components, path, limits))
    return found


def _check_pattern(value: str, pattern: str, path: str, rule: str) -> list[Violation]:
    if re.fullmatch(pattern, value):
        return []
    return [violation(path, Code.INVALID_FORMAT, f'{rule}; "{value}" is not one.')]


def _check_components(
    components: Sequence[TemplateComponent], base: str, limits: WhatsAppLimits
) -> list[Violation]:
    # A body parameter may be longer when the body is all that is sent (templates reference).
    body_only = all(c.type == "body" for c in components)
    found: list[Violation] = []
    for j, component in enumerate(components):
        found.extend(_check_component(component, join(base, j), limits, body_only=body_only))
    return found


def _check_component(
    component: TemplateComponent, path: str, limits: WhatsAppLimits, *, body_only: bool
) -> list[Violation]:
    found: list[Violation] = []
    if component.type == "button":
        found.extend(_check_button(component, path, limits))
        allowed = _BUTTON_TYPES.get(component.sub_type or "")
    else:
        allowed = _COMPONENT_TYPES[component.type]
    if component.type == "header":
        found.extend(_check_count(component, path, limits.header_params_max))
    text_limit = _text_limit(component, limits, body_only=body_only)
    for k, parameter in enumerate(component.parameters):
        param_path = join(path, "parameters", k)
        found.extend(_check_parameter(parameter, param_path, component.type, allowed))
        if text_limit is not None:
            found.extend(
                check_length(
                    parameter.text,
                    limit=text_limit,
                    path=join(param_path, "text"),
                    what=f"WhatsApp template {component.type} parameters",
                )
            )
    return found


def _text_limit(
    component: TemplateComponent, limits: WhatsAppLimits, *, body_only: bool
) -> int | None:
    if component.type == "header":
        return limits.header_text_param_max_chars
    if component.type == "body":
        return (
            limits.body_only_text_param_max_chars if body_only else limits.body_text_param_max_chars
        )
    return None


def _check_button(
    component: TemplateComponent, path: str, limits: WhatsAppLimits
) -> list[Violation]:
    found = _check_count(component, path, limits.button_params_max)
    if component.sub_type is None:
        message = "A WhatsApp template button needs its sub_type: quick_reply, url or copy_code."
        found.append(violation(join(path, "sub_type"), Code.REQUIRED, message))
    if component.index is None:
        message = "A WhatsApp template button needs its index, its position in the template (0-9)."
        found.append(violation(join(path, "index"), Code.REQUIRED, message))
    return found


def _check_count(component: TemplateComponent, path: str, limit: int) -> list[Violation]:
    count = len(component.parameters)
    if count <= limit:
        return []
    message = (
        f"A WhatsApp template {component.type} takes at most {plural(limit, 'parameter')}; "
        f"this one has {count}."
    )
    return [violation(join(path, "parameters"), Code.TOO_MANY, message)]


def _check_parameter(
    parameter: TemplateParameter, path: str, component: str, allowed: tuple[str, ...] | None
) -> list[Violation]:
    if allowed is not None and parameter.type not in allowed:
        message = (
            f"A WhatsApp template {component} takes {' or '.join(allowed)} parameters, "
            f"not {parameter.type}."
        )
        return [violation(join(path, "type"), Code.NOT_ALLOWED, message)]
    if parameter.type in _MEDIA_TYPES:
        return _check_media_parameter(parameter, path)
    field = {"text": "text", "payload": "payload"}.get(parameter.type)
    if field is not None and not getattr(parameter, field):
        message = f"{a(parameter.type).capitalize()} parameter needs its {field}."
        return [violation(join(path, field), Code.REQUIRED, message)]
    return []


def _check_media_parameter(parameter: TemplateParameter, path: str) -> list[Violation]:
    noun = a(parameter.type).capitalize()
    if parameter.link is None and parameter.media_id is None:
        message = f"{noun} parameter needs a link or an uploaded media id."
        return [violation(join(path, "link"), Code.REQUIRED, message)]
    if parameter.link is not None and parameter.media_id is not None:
        message = f"{noun} parameter takes a link or a media id, not both."
        return [violation(join(path, "media_id"), Code.NOT_ALLOWED, message)]
    return []
