"""A whole submission: every target checked, paths relative to the submission, shared content
problems reported once per platform."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pydantic import AnyHttpUrl

from herald.content import (
    InstagramKind,
    InstagramOptions,
    Media,
    MediaKind,
    PostContent,
    TikTokOptions,
    TikTokPrivacy,
    WhatsAppOptions,
    WhatsAppRecipient,
)
from herald.events import PostSubmitted, SubmittedTarget
from herald.rules import DEFAULT_LIMITS, check_submission, check_target
from herald.topics import Platform

pytestmark = pytest.mark.unit

URL = AnyHttpUrl("https://cdn.example/file.jpg")
JPEG = Media(kind=MediaKind.IMAGE, url=URL, mime_type="image/jpeg")
PUBLIC = TikTokOptions(privacy_level=TikTokPrivacy.PUBLIC_TO_EVERYONE)
TEXT_TO_ANA = WhatsAppOptions(recipients=[WhatsAppRecipient(recipient_id="a", to="+15551234567")])


def target(platform: Platform, options: Any = None, integration: str = "i") -> SubmittedTarget:
    return SubmittedTarget(integration_id=integration, platform=platform, options=options)


def submission(content: PostContent, *targets: SubmittedTarget) -> PostSubmitted:
    return PostSubmitted(
        business_id="b1", idempotency_key="k1", content=content, targets=list(targets)
    )


def found(submitted: PostSubmitted, **kwargs: Any) -> list[tuple[str, str]]:
    return [(v.path, v.code) for v in check_submission(submitted, **kwargs)]


def test_a_post_that_fits_every_target_has_no_violations() -> None:
    post = submission(
        PostContent(text="Spring is here #garden", media=[JPEG]),
        target(Platform.FACEBOOK),
        target(Platform.INSTAGRAM),
        target(Platform.TIKTOK, PUBLIC),
        target(Platform.WHATSAPP, TEXT_TO_ANA),
    )
    assert check_submission(post) == []


def test_paths_point_into_the_submission() -> None:
    post = submission(
        PostContent(text="x" * 2201, media=[JPEG]),
        target(Platform.FACEBOOK),
        target(Platform.TIKTOK),
        target(Platform.INSTAGRAM, InstagramOptions(kind=InstagramKind.CAROUSEL)),
    )
    assert found(post) == [
        ("targets[1].options.privacy_level", "required"),
        ("targets[2].content.text", "too_long"),
        ("targets[2].content.media", "too_few"),
    ]


def test_a_content_problem_shared_by_targets_names_each_target() -> None:
    """The content is one, but whether it fits is a question per target: each violation says
    which target it is about (issue 16), so two of them never share a path."""
    post = submission(
        PostContent(text="x" * 2201, media=[JPEG]),
        target(Platform.FACEBOOK, integration="page"),
        target(Platform.INSTAGRAM, integration="shop"),
        target(Platform.INSTAGRAM, integration="founder"),
    )
    violations = check_submission(post)
    assert [(v.path, v.code) for v in violations] == [
        ("targets[1].content.text", "too_long"),
        ("targets[2].content.text", "too_long"),
    ]
    assert violations[0].message == (
        "Instagram captions can be at most 2,200 characters; this one has 2,201."
    )


def test_each_platform_reports_its_own_limit_on_the_same_field() -> None:
    reel = Media(kind=MediaKind.VIDEO, url=URL, mime_type="video/mp4")
    post = submission(
        PostContent(text="x" * 2201, media=[reel]),
        target(Platform.INSTAGRAM, InstagramOptions(kind=InstagramKind.REEL)),
        target(Platform.TIKTOK, PUBLIC),
    )
    assert [v.message for v in check_submission(post)] == [
        "Instagram captions can be at most 2,200 characters; this one has 2,201.",
        "TikTok video captions can be at most 2,200 characters; this one has 2,201.",
    ]


def test_options_for_another_platform_are_refused() -> None:
    # SubmittedTarget validates this away; input built without validation can still carry it.
    mismatched = SubmittedTarget.model_construct(
        integration_id="i", platform=Platform.FACEBOOK, options=PUBLIC
    )
    post = PostSubmitted.model_construct(
        business_id="b1", idempotency_key="k1", content=PostContent(text="hi"), targets=[mismatched]
    )
    violations = check_submission(post)
    assert [(v.path, v.code) for v in violations] == [
        ("targets[0].options.platform", "wrong_platform")
    ]
    assert violations[0].message == "These options are for TikTok, but the target is Facebook."


def test_urls_must_be_http_or_https() -> None:
    # The models accept only http(s); input built without validation is checked all the same.
    unchecked: dict[str, Any] = {"kind": MediaKind.IMAGE, "url": "ftp://cdn.example/a.jpg"}
    content_fields: dict[str, Any] = {
        "text": "hi",
        "link": "mailto:shop@example.com",
        "media": [Media.model_construct(**unchecked)],
    }
    post = submission(PostContent.model_construct(**content_fields), target(Platform.FACEBOOK))
    # A URL's scheme is wrong whatever the target: said once, of the content itself.
    assert found(post) == [
        ("content.media[0].url", "invalid_url"),
        ("content.link", "invalid_url"),
        ("targets[0].content.link", "mixed_media"),
    ]


def test_other_limits_can_be_passed() -> None:
    limits = replace(
        DEFAULT_LIMITS, instagram=replace(DEFAULT_LIMITS.instagram, caption_max_chars=10)
    )
    post = submission(PostContent(text="x" * 11, media=[JPEG]), target(Platform.INSTAGRAM))
    assert found(post) == []
    assert found(post, limits=limits) == [("targets[0].content.text", "too_long")]


def test_check_target_uses_the_paths_of_a_requested_post() -> None:
    violations = check_target(PostContent(text="x" * 2201), Platform.INSTAGRAM, None)
    assert [(v.path, v.code) for v in violations] == [
        ("content.text", "too_long"),
        ("content.media", "required"),
    ]
