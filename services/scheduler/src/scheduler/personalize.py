"""Template parameters filled per contact
(docs/adr/0008-audiences-broadcasts-and-delivery-statuses.md).

In a broadcast's template, the `text` or `payload` of a parameter may hold placeholders
`{{contact.<key>}}`, optionally with a fallback: `{{contact.first_name|there}}`. A key is
`phone`, `name`, `first_name` (the name's first word) or one of the audience's own fields.
A component with a placeholder is rendered for each contact and sent as that recipient's own
component (the publisher puts it in place of the template's component of the same kind); the
other components stay shared. A contact without a value for a key without fallback is not sent
the message and is reported as skipped (`missing_field`), never sent a half-filled text.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from herald.content import TemplateComponent, TemplateParameter, WhatsAppTemplate
from herald.events import Violation

PLACEHOLDER = re.compile(r"\{\{\s*contact\.([a-z][a-z0-9_]*)\s*(?:\|([^{}]*))?\}\}")
# Anything that starts like a placeholder must be one: a typo is refused, not sent as is.
OPENING = re.compile(r"\{\{\s*contact\b")
FILLED = ("text", "payload")


class MissingField(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def check_placeholders(
    template: WhatsAppTemplate | None, available: Collection[str] | None, base: str
) -> list[Violation]:
    """Violations of a template's placeholders, each at its parameter's path under `base`
    (`targets[0].options.template`). `available` None means there is no audience: then no
    placeholder is allowed, since there is no contact to fill it from."""
    found: list[Violation] = []
    for path, value in _texts(template, base):
        keys, malformed = _scan(value)
        if malformed:
            message = "Write placeholders as {{contact.key}} or {{contact.key|fallback}}."
            found.append(Violation(path=path, message=message, code="invalid_format"))
        if keys and available is None:
            message = "Placeholders are filled from an audience's contacts; set audience_id."
            found.append(Violation(path=path, message=message, code="not_allowed"))
        elif available is not None:
            for key in (k for k in keys if k not in available):
                names = ", ".join(sorted(available))
                message = f"Contacts of this audience have no {key}; they have: {names}."
                found.append(Violation(path=path, message=message, code="unknown_field"))
    return found


def has_placeholders(component: TemplateComponent) -> bool:
    return any(
        OPENING.search(getattr(p, name) or "") for p in component.parameters for name in FILLED
    )


def split_template(
    template: WhatsAppTemplate,
) -> tuple[WhatsAppTemplate, list[TemplateComponent]]:
    """The template with only its shared components, and the components to fill per contact."""
    personal = [c for c in template.components if has_placeholders(c)]
    shared = [c for c in template.components if not has_placeholders(c)]
    return template.model_copy(update={"components": shared}), personal


def render(
    components: Sequence[TemplateComponent], values: Mapping[str, str]
) -> list[TemplateComponent]:
    """`components` with every placeholder replaced from `values`; `MissingField` if a key has
    neither a value nor a fallback."""
    return [
        c.model_copy(update={"parameters": [_fill(p, values) for p in c.parameters]})
        for c in components
    ]


def _fill(parameter: TemplateParameter, values: Mapping[str, str]) -> TemplateParameter:
    changes: dict[str, str] = {}
    for name in FILLED:
        value = getattr(parameter, name)
        if value and OPENING.search(value):
            changes[name] = PLACEHOLDER.sub(lambda m: _value(m, values), value)
    return parameter.model_copy(update=changes) if changes else parameter


def _value(match: re.Match[str], values: Mapping[str, str]) -> str:
    key, fallback = match.group(1), match.group(2)
    value = values.get(key, "").strip()
    if value:
        return value
    if fallback is not None and fallback.strip():
        return fallback.strip()
    raise MissingField(key)


def _scan(value: str) -> tuple[list[str], bool]:
    """The keys a text uses, and whether something looks like a placeholder but is not one."""
    keys = [m.group(1) for m in PLACEHOLDER.finditer(value)]
    malformed = len(OPENING.findall(value)) != len(keys)
    return keys, malformed


def _texts(template: WhatsAppTemplate | None, base: str) -> list[tuple[str, str]]:
    if template is None:
        return []
    found = []
    for j, component in enumerate(template.components):
        for k, parameter in enumerate(component.parameters):
            for name in FILLED:
                value = getattr(parameter, name)
                if value:
                    found.append((f"{base}.components[{j}].parameters[{k}].{name}", value))
    return found
