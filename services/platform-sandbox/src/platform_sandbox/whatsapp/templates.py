"""Template sends checked against the registered template: existence and approval (132001,
132015 paused, 132016 disabled), parameter counts per component (132000) and parameter formats
(132012), per the Cloud API error table (platform-apis.md §3.6)."""

from __future__ import annotations

from typing import Any

from platform_sandbox.accounts import Accounts, Template
from platform_sandbox.graph_errors import GraphError
from platform_sandbox.whatsapp.validation import TemplateUse, missing

_BODY_TYPES = frozenset({"text", "currency", "date_time"})
_REQUIRED_FIELDS = {
    "text": ("text",),
    "currency": ("currency",),
    "date_time": ("date_time",),
    "payload": ("payload",),
}


def _mismatch(component: str, given: int, expected: int) -> GraphError:
    return GraphError(
        132000,
        "Number of parameters does not match the expected number of params",
        details=f"{component}: number of localizable_params ({given}) does not match the "
        f"expected number of params ({expected})",
    )


def find_template(accounts: Accounts, waba_id: str, use: TemplateUse) -> Template:
    template = accounts.template(waba_id, use.name, use.language)
    if template is None or template.status in ("PENDING", "REJECTED"):
        raise GraphError(
            132001,
            "Template name does not exist in the translation",
            details=f"template name ({use.name}) does not exist in {use.language}",
        )
    if template.status == "PAUSED":
        raise GraphError(
            132015, "Template is paused", details="The template is paused for low quality."
        )
    if template.status == "DISABLED":
        raise GraphError(132016, "Template has been disabled", details="The template is disabled.")
    return template


def check_parameters(template: Template, use: TemplateUse) -> None:
    header = _parameters(use, "header")
    body = _parameters(use, "body")
    _check_header(template, header)
    if len(body) != template.body_params:
        raise _mismatch("body", len(body), template.body_params)
    for parameter in body:
        _check_parameter(parameter, _BODY_TYPES, "body")
    _check_buttons(template, use)


def _parameters(use: TemplateUse, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for component in use.components:
        if component.get("type") == kind:
            found.extend(p for p in component.get("parameters", []) if isinstance(p, dict))
    return found


def _check_header(template: Template, header: list[dict[str, Any]]) -> None:
    media = template.header_format in ("IMAGE", "VIDEO", "DOCUMENT")
    expected = 1 if media else template.header_params
    if len(header) != expected:
        raise _mismatch("header", len(header), expected)
    if media and header[0].get("type") != (template.header_format or "").lower():
        raise GraphError(
            132012,
            "Parameter format does not match format in the created template",
            details=f"header: expected a {template.header_format} parameter",
        )
    for parameter in header if not media else []:
        _check_parameter(parameter, frozenset({"text"}), "header")


def _check_parameter(parameter: dict[str, Any], allowed: frozenset[str], component: str) -> None:
    kind = parameter.get("type")
    if kind not in allowed:
        raise GraphError(
            132012,
            "Parameter format does not match format in the created template",
            details=f"{component}: parameter type {kind} is not allowed here",
        )
    for name in _REQUIRED_FIELDS.get(str(kind), ()):
        if not parameter.get(name):
            raise missing(f"template['components'][{component}]['parameters'][]['{name}']")


def _check_buttons(template: Template, use: TemplateUse) -> None:
    seen = set()
    for component in use.components:
        if component.get("type") != "button":
            continue
        try:
            index = int(component.get("index", -1))
        except (TypeError, ValueError):
            index = -1
        if not 0 <= index < len(template.buttons):
            raise _mismatch(f"button at index {index}", 1, 0)
        button = template.buttons[index]
        sub_type = str(component.get("sub_type", "")).lower()
        if sub_type != button.sub_type:
            raise GraphError(
                132012,
                "Parameter format does not match format in the created template",
                details=f"button {index}: sub_type {sub_type} does not match {button.sub_type}",
            )
        seen.add(index)
        given = [p for p in component.get("parameters", []) if isinstance(p, dict)]
        if button.sub_type != "quick_reply" and len(given) != button.params:
            raise _mismatch(f"button {index}", len(given), button.params)
    for index, button in enumerate(template.buttons):
        if button.sub_type != "quick_reply" and button.params and index not in seen:
            raise _mismatch(f"button {index}", 0, button.params)
