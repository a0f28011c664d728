"""WhatsApp template messages, table by table: name, language and each component's parameters."""

from __future__ import annotations

from typing import Any, Final

import pytest
from pydantic import AnyHttpUrl

from herald.content import (
    PostContent,
    TemplateComponent,
    TemplateParameter,
    WhatsAppOptions,
    WhatsAppRecipient,
    WhatsAppTemplate,
)
from herald.events import Violation
from herald.rules import check_target
from herald.topics import Platform

pytestmark = pytest.mark.unit

URL = AnyHttpUrl("https://cdn.example/file")
ANA = WhatsAppRecipient(recipient_id="ana", to="+351912345678")
BEN = WhatsAppRecipient(recipient_id="ben", to="+15551234567")
TEMPLATE = WhatsAppTemplate(name="order_update", language="en_US")
HELLO = PostContent(text="hello")


def text_param(text: str | None) -> TemplateParameter:
    return TemplateParameter(type="text", text=text)


def template(*components: TemplateComponent, **fields: Any) -> WhatsAppTemplate:
    defaults = {"name": "order_update", "language": "en_US", "components": list(components)}
    return WhatsAppTemplate(**{**defaults, **fields})


def check(**options: Any) -> list[Violation]:
    opts = WhatsAppOptions(**{"recipients": [ANA], **options})
    return check_target(HELLO, Platform.WHATSAPP, opts)


def found(violations: list[Violation]) -> list[tuple[str, str]]:
    return [(v.path, v.code) for v in violations]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"name": "spring_sale_2"}, [], id="name"),
        pytest.param(
            {"name": "Spring Sale"}, [("name", "invalid_format")], id="name with capitals"
        ),
        pytest.param({"language": "en"}, [], id="language only"),
        pytest.param({"language": "fil"}, [], id="three-letter language"),
        pytest.param({"language": "prs_AF"}, [], id="language with region"),
        pytest.param({"language": "en-US"}, [("language", "invalid_format")], id="hyphen"),
    ],
)
def test_template_name_and_language(
    fields: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    want = [(f"options.template.{path}", code) for path, code in expected]
    assert found(check(template=template(**fields))) == want


HEADER: Final = "header"
BODY: Final = "body"


@pytest.mark.parametrize(
    ("components", "expected"),
    [
        pytest.param(
            [TemplateComponent(type=HEADER, parameters=[text_param("h" * 60)])], [], id="header 60"
        ),
        pytest.param(
            [TemplateComponent(type=HEADER, parameters=[text_param("h" * 61)])],
            [("components[0].parameters[0].text", "too_long")],
            id="header 61",
        ),
        pytest.param(
            [TemplateComponent(type=HEADER, parameters=[text_param("a"), text_param("b")])],
            [("components[0].parameters", "too_many")],
            id="two header parameters",
        ),
        pytest.param(
            [
                TemplateComponent(
                    type=HEADER, parameters=[TemplateParameter(type="payload", payload="p")]
                )
            ],
            [("components[0].parameters[0].type", "not_allowed")],
            id="payload in a header",
        ),
        pytest.param(
            [
                TemplateComponent(type=HEADER, parameters=[text_param("h")]),
                TemplateComponent(type=BODY, parameters=[text_param("b" * 1024)]),
            ],
            [],
            id="body 1,024 beside a header",
        ),
        pytest.param(
            [
                TemplateComponent(type=HEADER, parameters=[text_param("h")]),
                TemplateComponent(type=BODY, parameters=[text_param("b" * 1025)]),
            ],
            [("components[1].parameters[0].text", "too_long")],
            id="body 1,025 beside a header",
        ),
        pytest.param(
            [TemplateComponent(type=BODY, parameters=[text_param("b" * 32_768)])],
            [],
            id="body only",
        ),
        pytest.param(
            [TemplateComponent(type=BODY, parameters=[text_param("b" * 32_769)])],
            [("components[0].parameters[0].text", "too_long")],
            id="body only, one over",
        ),
        pytest.param(
            [TemplateComponent(type=BODY, parameters=[text_param(None)])],
            [("components[0].parameters[0].text", "required")],
            id="text parameter without text",
        ),
    ],
)
def test_header_and_body_parameters(
    components: list[TemplateComponent], expected: list[tuple[str, str]]
) -> None:
    want = [(f"options.template.{path}", code) for path, code in expected]
    assert found(check(template=template(*components))) == want


def button(sub_type: Any, index: int | None, *parameters: TemplateParameter) -> TemplateComponent:
    return TemplateComponent(
        type="button", sub_type=sub_type, index=index, parameters=list(parameters)
    )


PAYLOAD = TemplateParameter(type="payload", payload="ORDER")


@pytest.mark.parametrize(
    ("component", "expected"),
    [
        pytest.param(button("quick_reply", 0, PAYLOAD), [], id="quick reply"),
        pytest.param(button("url", 1, text_param("abc")), [], id="url suffix"),
        pytest.param(
            button(None, None, PAYLOAD),
            [("components[0].sub_type", "required"), ("components[0].index", "required")],
            id="button without sub_type and index",
        ),
        pytest.param(
            button("quick_reply", 0, text_param("x")),
            [("components[0].parameters[0].type", "not_allowed")],
            id="quick reply with text",
        ),
        pytest.param(
            button("quick_reply", 0, PAYLOAD, PAYLOAD),
            [("components[0].parameters", "too_many")],
            id="two button parameters",
        ),
        pytest.param(
            button("quick_reply", 0, TemplateParameter(type="payload")),
            [("components[0].parameters[0].payload", "required")],
            id="payload without payload",
        ),
        pytest.param(
            TemplateComponent(type=HEADER, parameters=[TemplateParameter(type="image")]),
            [("components[0].parameters[0].link", "required")],
            id="image without link or id",
        ),
        pytest.param(
            TemplateComponent(
                type=HEADER, parameters=[TemplateParameter(type="video", link=URL, media_id="1")]
            ),
            [("components[0].parameters[0].media_id", "not_allowed")],
            id="video with link and id",
        ),
    ],
)
def test_buttons_and_media_parameters(
    component: TemplateComponent, expected: list[tuple[str, str]]
) -> None:
    want = [(f"options.template.{path}", code) for path, code in expected]
    assert found(check(template=template(component))) == want


def test_each_recipients_own_parameters_are_checked() -> None:
    body = TemplateComponent(type=BODY, parameters=[text_param("x" * 32_769)])
    recipient = BEN.model_copy(update={"components": [body]})
    violations = check(recipients=[ANA, recipient], template=TEMPLATE)
    assert found(violations) == [
        ("options.recipients[1].components[0].parameters[0].text", "too_long")
    ]


def test_every_violation_is_reported_at_once() -> None:
    shared = template(
        TemplateComponent(type=HEADER, parameters=[text_param("h" * 61)]),
        button(None, 0, PAYLOAD),
        name="Order Update",
        language="en-US",
    )
    own = BEN.model_copy(
        update={"components": [TemplateComponent(type=BODY, parameters=[PAYLOAD])]}
    )
    violations = check(recipients=[ANA, own], template=shared)
    assert found(violations) == [
        ("options.template.name", "invalid_format"),
        ("options.template.language", "invalid_format"),
        ("options.template.components[0].parameters[0].text", "too_long"),
        ("options.template.components[1].sub_type", "required"),
        ("options.recipients[1].components[0].parameters[0].type", "not_allowed"),
    ]
    assert violations[1].message == (
        "WhatsApp template languages are codes like en or en_US, with an underscore; "
        '"en-US" is not one.'
    )
