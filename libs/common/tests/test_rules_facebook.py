"""Facebook content rules, table by table: each limit passes at its value and fails one past it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pydantic import AnyHttpUrl

from herald.content import FacebookOptions, Media, MediaKind, PostContent
from herald.events import Violation
from herald.rules import DEFAULT_LIMITS, Limits, check_target
from herald.rules.limits import GIB, MIB
from herald.topics import Platform

pytestmark = pytest.mark.unit

URL = AnyHttpUrl("https://cdn.example/file")


def photo(**fields: Any) -> Media:
    return Media(kind=MediaKind.IMAGE, **{"url": URL, "mime_type": "image/jpeg", **fields})


def video(**fields: Any) -> Media:
    return Media(kind=MediaKind.VIDEO, **{"url": URL, "mime_type": "video/mp4", **fields})


def document(**fields: Any) -> Media:
    return Media(kind=MediaKind.DOCUMENT, **{"url": URL, "mime_type": "application/pdf", **fields})


def check(content: PostContent, limits: Limits = DEFAULT_LIMITS) -> list[Violation]:
    return check_target(content, Platform.FACEBOOK, FacebookOptions(), limits=limits)


def found(violations: list[Violation]) -> list[tuple[str, str]]:
    return [(v.path, v.code) for v in violations]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(PostContent(text="x" * 63_206), [], id="text at the limit"),
        pytest.param(
            PostContent(text="x" * 63_207), [("content.text", "too_long")], id="text one over"
        ),
        pytest.param(PostContent(link=URL), [], id="link only"),
        pytest.param(PostContent(text="hi", media=[photo(), photo(), photo()]), [], id="photos"),
        pytest.param(PostContent(media=[video()]), [], id="one video"),
        pytest.param(PostContent(), [("content", "required")], id="nothing to post"),
        pytest.param(
            PostContent(media=[photo(), video()]),
            [("content.media[1]", "mixed_media")],
            id="video with photos",
        ),
        pytest.param(
            PostContent(media=[video(), video()]),
            [("content.media", "too_many")],
            id="two videos",
        ),
        pytest.param(
            PostContent(link=URL, media=[photo()]),
            [("content.link", "mixed_media")],
            id="link with media",
        ),
        pytest.param(
            PostContent(text="hi", media=[document()]),
            [("content.media[0].kind", "unsupported_type")],
            id="document",
        ),
    ],
)
def test_post_shapes(content: PostContent, expected: list[tuple[str, str]]) -> None:
    assert found(check(content)) == expected


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        pytest.param(photo(size_bytes=10 * MIB), [], id="photo at 10 MB"),
        pytest.param(
            photo(size_bytes=10 * MIB + 1),
            [("content.media[0].size_bytes", "too_large")],
            id="photo one byte over",
        ),
        pytest.param(photo(mime_type="image/JPG"), [], id="jpg alias"),
        pytest.param(photo(mime_type="image/png; charset=binary"), [], id="mime parameters"),
        pytest.param(
            photo(mime_type="image/heic"),
            [("content.media[0].mime_type", "unsupported_type")],
            id="heic photo",
        ),
        pytest.param(photo(mime_type=None, size_bytes=None), [], id="unknown format and size"),
        pytest.param(video(size_bytes=10 * GIB), [], id="video at 10 GB"),
        pytest.param(
            video(size_bytes=10 * GIB + 1),
            [("content.media[0].size_bytes", "too_large")],
            id="video one byte over",
        ),
        pytest.param(video(duration_s=4 * 3600), [], id="video at 4 hours"),
        pytest.param(
            video(duration_s=4 * 3600 + 1),
            [("content.media[0].duration_s", "too_long_video")],
            id="video past 4 hours",
        ),
        pytest.param(
            video(mime_type="video/x-flv"),
            [("content.media[0].mime_type", "unsupported_type")],
            id="flash video",
        ),
    ],
)
def test_media_limits(media: Media, expected: list[tuple[str, str]]) -> None:
    assert found(check(PostContent(media=[media]))) == expected


@pytest.mark.parametrize(("count", "expected"), [(2, []), (3, [("content.media", "too_many")])])
def test_a_photo_cap_can_be_configured(count: int, expected: list[tuple[str, str]]) -> None:
    limits = replace(DEFAULT_LIMITS, facebook=replace(DEFAULT_LIMITS.facebook, photos_max=2))
    assert found(check(PostContent(media=[photo()] * count), limits)) == expected


def test_every_violation_is_reported_at_once() -> None:
    content = PostContent(
        text="x" * 70_000,
        link=URL,
        media=[photo(size_bytes=11 * MIB), video(), document()],
    )
    assert found(check(content)) == [
        ("content.text", "too_long"),
        ("content.media[1]", "mixed_media"),
        ("content.link", "mixed_media"),
        ("content.media[2].kind", "unsupported_type"),
        ("content.media[0].size_bytes", "too_large"),
    ]


def test_messages_name_the_limit_and_the_value() -> None:
    content = PostContent(text="x" * 63_210, media=[photo(size_bytes=12 * MIB)])
    assert [v.message for v in check(content)] == [
        "Facebook posts can be at most 63,206 characters; this one has 63,210.",
        "Facebook photos can be at most 10 MB; media item 1 is 12 MB.",
    ]
