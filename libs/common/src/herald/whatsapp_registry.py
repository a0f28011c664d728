"""A WABA's registered message templates, and whether a template message fits one (issue 16).

WhatsApp refuses a template message only when it is sent: 132001 when the template does not
exist in that language or is not approved, 132000 when a component has the wrong number of
parameters (platform-apis.md §3.6). Checking against the templates the platform lists
(`GET /{waba-id}/message_templates`, §3) refuses such a post at submission instead.

The platform lists each template's `components`: a `HEADER` (`format` TEXT with `{{n}}`
placeholders, or IMAGE / VIDEO / DOCUMENT, which take one media parameter), a `BODY` whose text
holds the placeholders, and `BUTTONS`, where a URL button with a placeholder takes one
parameter. A recipient's own components replace the template's of the same kind, as the
publisher sends them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field

from herald.content import TemplateComponent, WhatsAppOptions
from herald.events import Violation

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_MEDIA = ("image", "video", "document")


class RegisteredButton(BaseModel):
    sub_type: str = Field(description="quick_reply, url, copy_code, …")
    params: int = Field(description="Parameters a message must give this button.")


class RegisteredTemplate(BaseModel):
    """One template as the platform lists it, reduced to what a message must match."""

    name: str
    language: str
    status: str = Field(description="APPROVED, PENDING, REJECTED, PAUSED, DISABLED, …")
    category: str | None = None
    header: str | None = Field(default=None, description="text, image, video, document or null")
    header_params: int = 0
    body_params: int = 0
    buttons: list[RegisteredButton] = Field(default_factory=list)

    @classmethod
    def from_graph(cls, item: Mapping[str, Any]) -> RegisteredTemplate:
        """One entry of `message_templates`' `data`."""
        found: dict[str, Any] = {}
        for component in item.get("components") or []:
            if not isinstance(component, Mapping):
                continue
            kind = str(component.get("type", "")).upper()
            if kind == "HEADER":
                form = str(component.get("format", "TEXT")).lower()
                found["header"] = form
                media = form in _MEDIA
                found["header_params"] = 1 if media else _count(component.get("text"))
            elif kind == "BODY":
                found["body_params"] = _count(component.get("text"))
            elif kind == "BUTTONS":
                found["buttons"] = [
                    RegisteredButton(
                        sub_type=str(b.get("type", "")).lower(),
                        params=_count(b.get("url"))
                        if str(b.get("type", "")).upper() == "URL"
                        else 0,
                    )
                    for b in component.get("buttons") or []
                    if isinstance(b, Mapping)
                ]
        return cls(
            name=str(item.get("name", "")),
            language=str(item.get("language", "")),
            status=str(item.get("status", "")).upper(),
            category=None if item.get("category") is None else str(item["category"]),
            **found,
        )


def _count(text: Any) -> int:
    return len(set(_PLACEHOLDER.findall(text))) if isinstance(text, str) else 0


def check_template_use(
    options: WhatsAppOptions, registered: Sequence[RegisteredTemplate], path: str
) -> list[Violation]:
    """Whether `options.template` names an approved template of the WABA in its language and
    gives each component the parameters it was approved with; `path` is the options' path."""
    template = options.template
    if template is None:
        return []
    base = f"{path}.template"
    named = [t for t in registered if t.name == template.name]
    if not named:
        known = ", ".join(sorted({t.name for t in registered})) or "none"
        message = (
            f"This WhatsApp account has no template named {template.name!r} (its templates: "
            f"{known}); create it in WhatsApp Manager or use one of these."
        )
        return [Violation(path=f"{base}.name", message=message, code="not_found")]
    match = next((t for t in named if t.language == template.language), None)
    if match is None:
        languages = ", ".join(sorted(t.language for t in named))
        message = (
            f"The template {template.name!r} exists in {languages}, not in "
            f"{template.language!r}; use one of those languages."
        )
        return [Violation(path=f"{base}.language", message=message, code="not_found")]
    if match.status != "APPROVED":
        message = (
            f"The template {template.name!r} ({template.language}) is {match.status}, not "
            "APPROVED: WhatsApp sends only approved templates; wait for approval or use another."
        )
        return [Violation(path=f"{base}.name", message=message, code="not_approved")]
    found = _check_counts(template.components, match, f"{base}.components")
    for i, recipient in enumerate(options.recipients):
        if recipient.components is not None:
            own = _merged(template.components, recipient.components)
            found.extend(_check_counts(own, match, f"{path}.recipients[{i}].components"))
    return list(dict.fromkeys(found))


def _merged(
    shared: Sequence[TemplateComponent], own: Sequence[TemplateComponent]
) -> list[TemplateComponent]:
    def key(c: TemplateComponent) -> tuple[str, int | None]:
        return c.type, c.index if c.type == "button" else None

    mine = {key(c): c for c in own}
    return [mine.pop(key(c), c) for c in shared] + list(mine.values())


def _check_counts(
    components: Sequence[TemplateComponent], registered: RegisteredTemplate, path: str
) -> list[Violation]:
    given = {"header": 0, "body": 0}
    buttons: dict[int, int] = {}
    for component in components:
        if component.type == "button":
            buttons[component.index or 0] = len(component.parameters)
        else:
            given[component.type] += len(component.parameters)
    name = registered.name
    found = [
        _mismatch(path, kind, given[kind], expected, name)
        for kind, expected in (
            ("header", registered.header_params),
            ("body", registered.body_params),
        )
        if given[kind] != expected
    ]
    for index, button in enumerate(registered.buttons):
        if button.sub_type != "quick_reply" and buttons.get(index, 0) != button.params:
            found.append(
                _mismatch(path, f"button {index}", buttons.get(index, 0), button.params, name)
            )
    found.extend(
        _mismatch(path, f"button {index}", buttons[index], 0, name)
        for index in sorted(buttons)
        if index >= len(registered.buttons)
    )
    return found


def _mismatch(path: str, component: str, given: int, expected: int, name: str) -> Violation:
    message = (
        f"The template {name!r} was approved with {expected} {component} parameter(s); this "
        f"message gives {given}. WhatsApp would refuse it (132000)."
    )
    return Violation(path=path, message=message, code="parameter_count")
