"""WhatsApp content rules, table by table: recipients and free-form messages (templates have
their own module)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import AnyHttpUrl

from herald.content import (
    Media,
    MediaKind,
    PostContent,
    WhatsAppOptions,
    WhatsAppRecipient,
    WhatsAppTemplate,
)
from herald.events import Violation
from herald.rules import check_target
from herald.rules.limits import MIB
from herald.topics import Platform

pytestmark = pytest.mark.unit

URL = AnyHttpUrl("https://cdn.example/file")
ANA = WhatsAppRecipient(recipient_id="ana", to="+351912345678")
BEN = WhatsAppRecipient(recipient_id="ben", to="+15551234567")
TEMPLATE = WhatsAppTemplate(name="order_update", language="en_US")


def media(kind: MediaKind, mime_type: str, **fields: Any) -> Media:
    return Media(kind=kind, **{"url": URL, "mime_type": mime_type, **fields})


def check(content: PostContent, **options: Any) -> list[Violation]:
    opts = WhatsAppOptions(**{"recipients": [ANA], **options})
    return check_target(content, Platform.WHATSAPP, opts)


def found(violations: list[Violation]) -> list[tuple[str, str]]:
    return [(v.path, v.code) for v in violations]


HELLO = PostContent(text="hello")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param({}, [], id="one recipient, free-form"),
        pytest.param({"recipients": []}, [("options.recipients", "required")], id="nobody"),
        pytest.param(
            {"recipients": [ANA, BEN]}, [("options.template", "required")], id="batch, no template"
        ),
        pytest.param(
            {"recipients": [], "audience_id": "vip"},
            [("options.template", "required")],
            id="audience, no template",
        ),
        pytest.param({"recipients": [], "audience_id": "vip", "template": TEMPLATE}, [], id="ok"),
        pytest.param(
            {
                "recipients": [ANA, ANA.model_copy(update={"to": "+15550000000"})],
                "template": TEMPLATE,
            },
            [("options.recipients[1].recipient_id", "duplicate")],
            id="same id twice",
        ),
        pytest.param(
            {
                "recipients": [ANA, ANA.model_copy(update={"recipient_id": "x"})],
                "template": TEMPLATE,
            },
            [("options.recipients[1].to", "duplicate")],
            id="same number twice",
        ),
    ],
)
def test_recipients(options: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert found(check(HELLO, **options)) == expected


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(PostContent(text="x" * 4096), [], id="text at 4,096"),
        pytest.param(PostContent(text="x" * 4097), [("content.text", "too_long")], id="text over"),
        pytest.param(
            PostContent(text="x" * 1024, media=[media(MediaKind.IMAGE, "image/png")]),
            [],
            id="caption at 1,024",
        ),
        pytest.param(
            PostContent(text="x" * 1025, media=[media(MediaKind.IMAGE, "image/png")]),
            [("content.text", "too_long")],
            id="caption one over",
        ),
        pytest.param(PostContent(), [("content", "required")], id="nothing to send"),
        pytest.param(
            PostContent(media=[media(MediaKind.IMAGE, "image/jpeg")] * 2),
            [("content.media", "too_many")],
            id="two media items",
        ),
    ],
)
def test_free_form_messages(content: PostContent, expected: list[tuple[str, str]]) -> None:
    assert found(check(content)) == expected


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        pytest.param(media(MediaKind.IMAGE, "image/jpeg", size_bytes=5 * MIB), None, id="5 MB"),
        pytest.param(
            media(MediaKind.IMAGE, "image/png", size_bytes=5 * MIB + 1),
            "size_bytes",
            id="over 5 MB",
        ),
        pytest.param(media(MediaKind.IMAGE, "image/webp"), "mime_type", id="webp image"),
        pytest.param(media(MediaKind.VIDEO, "video/3gpp", size_bytes=16 * MIB), None, id="3gpp"),
        pytest.param(
            media(MediaKind.VIDEO, "video/mp4", size_bytes=16 * MIB + 1), "size_bytes", id="16 MB+"
        ),
        pytest.param(media(MediaKind.VIDEO, "video/quicktime"), "mime_type", id="mov video"),
        pytest.param(
            media(MediaKind.DOCUMENT, "application/pdf", filename="a.pdf", size_bytes=100 * MIB),
            None,
            id="pdf at 100 MB",
        ),
        pytest.param(
            media(MediaKind.DOCUMENT, "text/plain", filename="a.txt", size_bytes=100 * MIB + 1),
            "size_bytes",
            id="document over 100 MB",
        ),
        pytest.param(
            media(
                MediaKind.DOCUMENT,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                filename="a.docx",
            ),
            None,
            id="docx",
        ),
        pytest.param(
            media(MediaKind.DOCUMENT, "application/zip", filename="a.zip"), "mime_type", id="zip"
        ),
        pytest.param(media(MediaKind.DOCUMENT, "application/pdf"), "filename", id="no filename"),
    ],
)
def test_media_limits(item: Media, expected: str | None) -> None:
    codes = {"size_bytes": "too_large", "mime_type": "unsupported_type", "filename": "required"}
    want = [] if expected is None else [(f"content.media[0].{expected}", codes[expected])]
    assert found(check(PostContent(media=[item]))) == want


def test_a_template_message_ignores_the_free_form_content() -> None:
    content = PostContent(text="x" * 5000, media=[media(MediaKind.IMAGE, "image/gif")] * 3)
    assert check(content, template=TEMPLATE) == []


def test_every_violation_is_reported_at_once() -> None:
    content = PostContent(
        text="x" * 1100,
        media=[media(MediaKind.DOCUMENT, "application/zip"), media(MediaKind.IMAGE, "image/png")],
    )
    violations = check(content, recipients=[ANA, ANA])
    assert found(violations) == [
        ("options.template", "required"),
        ("options.recipients[1].recipient_id", "duplicate"),
        ("options.recipients[1].to", "duplicate"),
        ("content.media", "too_many"),
        ("content.media[0].mime_type", "unsupported_type"),
        ("content.media[0].filename", "required"),
        ("content.text", "too_long"),
    ]
    assert violations[-1].message == (
        "WhatsApp media captions can be at most 1,024 characters; this one has 1,100."
    )
