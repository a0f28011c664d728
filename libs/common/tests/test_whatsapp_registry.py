"""A template message against the WABA's registered templates (issue 16): a template that does
not exist, in another language, not approved, or with other parameter counts is refused at
submission instead of failing at send with 132001 / 132000."""

from __future__ import annotations

from typing import Any

import pytest

from herald.content import WhatsAppOptions
from herald.whatsapp_registry import RegisteredTemplate, check_template_use

pytestmark = pytest.mark.unit

# An entry as `GET /{waba-id}/message_templates` lists it (platform-apis.md §3).
ORDER_UPDATE: dict[str, Any] = {
    "name": "order_update",
    "language": "en_US",
    "status": "APPROVED",
    "category": "UTILITY",
    "id": "1",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"},
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} ships on {{3}}."},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "URL", "text": "Track", "url": "https://shop.example/t/{{1}}"},
                {"type": "QUICK_REPLY", "text": "Stop"},
            ],
        },
    ],
}
REGISTRY = [
    RegisteredTemplate.from_graph(ORDER_UPDATE),
    RegisteredTemplate.from_graph({**ORDER_UPDATE, "language": "pt_PT", "status": "PAUSED"}),
]


def text(n: int) -> list[dict[str, str]]:
    return [{"type": "text", "text": f"v{i}"} for i in range(n)]


def options(name: str = "order_update", language: str = "en_US", **counts: int) -> WhatsAppOptions:
    header, body, button = counts.get("header", 1), counts.get("body", 3), counts.get("button", 1)
    components: list[dict[str, Any]] = [
        {"type": "header", "parameters": text(header)},
        {"type": "body", "parameters": text(body)},
        {"type": "button", "sub_type": "url", "index": 0, "parameters": text(button)},
    ]
    return WhatsAppOptions.model_validate(
        {
            "recipients": [{"recipient_id": "a", "to": "+15551234567"}],
            "template": {"name": name, "language": language, "components": components},
        }
    )


def found(opts: WhatsAppOptions) -> list[tuple[str, str]]:
    return [(v.path, v.code) for v in check_template_use(opts, REGISTRY, "targets[1].options")]


def test_the_platforms_listing_is_read_into_parameter_counts() -> None:
    registered = REGISTRY[0]
    assert (registered.header, registered.header_params, registered.body_params) == ("text", 1, 3)
    assert [(b.sub_type, b.params) for b in registered.buttons] == [("url", 1), ("quick_reply", 0)]


def test_a_message_that_fits_its_approved_template_passes() -> None:
    assert found(options()) == []


@pytest.mark.parametrize(
    ("opts", "expected"),
    [
        (options(name="order_updated"), ("targets[1].options.template.name", "not_found")),
        (options(language="fr_FR"), ("targets[1].options.template.language", "not_found")),
        (options(language="pt_PT"), ("targets[1].options.template.name", "not_approved")),
        (options(body=2), ("targets[1].options.template.components", "parameter_count")),
        (options(button=0), ("targets[1].options.template.components", "parameter_count")),
    ],
    ids=["unknown name", "other language", "paused", "body count", "url button count"],
)
def test_what_whatsapp_would_refuse_is_refused_with_the_target_index(
    opts: WhatsAppOptions, expected: tuple[str, str]
) -> None:
    assert found(opts) == [expected]


def test_a_recipients_own_components_are_checked_as_sent() -> None:
    opts = options()
    data = opts.model_dump(mode="json")
    data["recipients"][0]["components"] = [{"type": "body", "parameters": text(4)}]
    violations = check_template_use(
        WhatsAppOptions.model_validate(data), REGISTRY, "targets[0].options"
    )
    assert [(v.path, v.code) for v in violations] == [
        ("targets[0].options.recipients[0].components", "parameter_count")
    ]
    assert "approved with 3 body parameter(s); this message gives 4" in violations[0].message
