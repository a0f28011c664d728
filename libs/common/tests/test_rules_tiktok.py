"""TikTok content rules, table by table: one video or 1-35 photos, texts in UTF-16, options."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pydantic import AnyHttpUrl

from herald.content import Media, MediaKind, PostContent, TikTokOptions, TikTokPrivacy
from herald.events import Violation
from herald.rules import DEFAULT_LIMITS, Limits, check_target
from herald.rules.limits import GIB, MIB
from herald.topics import Platform

pytestmark = pytest.mark.unit

URL = AnyHttpUrl("https://cdn.example/file")
EMOJI = "\N{GRINNING FACE}"  # one code point, two UTF-16 units


def photo(**fields: Any) -> Media:
    return Media(kind=MediaKind.IMAGE, **{"url": URL, "mime_type": "image/jpeg", **fields})


def video(**fields: Any) -> Media:
    return Media(kind=MediaKind.VIDEO, **{"url": URL, "mime_type": "video/mp4", **fields})


def options(**fields: Any) -> TikTokOptions:
    return TikTokOptions(**{"privacy_level": TikTokPrivacy.PUBLIC_TO_EVERYONE, **fields})


def check(
    content: PostContent,
    opts: TikTokOptions | None = None,
    limits: Limits = DEFAULT_LIMITS,
    path: str = "",
) -> list[Violation]:
    opts = options() if opts is None else opts
    return check_target(content, Platform.TIKTOK, opts, limits=limits, path=path)


def found(violations: list[Violation]) -> list[tuple[str, str]]:
    return [(v.path, v.code) for v in violations]


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        pytest.param([video()], [], id="one video"),
        pytest.param([photo()], [], id="one photo"),
        pytest.param([photo()] * 35, [], id="35 photos"),
        pytest.param([photo()] * 36, [("content.media", "too_many")], id="36 photos"),
        pytest.param([], [("content.media", "required")], id="no media"),
        pytest.param([video(), video()], [("content.media", "too_many")], id="two videos"),
        pytest.param([video(), photo()], [("content.media", "mixed_media")], id="both kinds"),
        pytest.param(
            [Media(kind=MediaKind.DOCUMENT, url=URL)],
            [("content.media[0].kind", "unsupported_type"), ("content.media", "required")],
            id="document",
        ),
    ],
)
def test_post_shapes(media: list[Media], expected: list[tuple[str, str]]) -> None:
    assert found(check(PostContent(media=media))) == expected


def test_privacy_level_is_required() -> None:
    violations = check_target(PostContent(media=[video()]), Platform.TIKTOK, None)
    assert found(violations) == [("options.privacy_level", "required")]


def test_paths_take_the_given_prefix() -> None:
    violations = check_target(PostContent(), Platform.TIKTOK, None, path="request")
    assert found(violations) == [
        ("request.content.media", "required"),
        ("request.options.privacy_level", "required"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("x" * 2200, [], id="caption at 2,200"),
        pytest.param("x" * 2201, [("content.text", "too_long")], id="caption one over"),
        pytest.param("x" * 2198 + EMOJI, [], id="emoji counts two, at the limit"),
        pytest.param("x" * 2199 + EMOJI, [("content.text", "too_long")], id="emoji tips it"),
    ],
)
def test_video_caption_counts_utf16(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(check(PostContent(text=text, media=[video()]))) == expected


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        pytest.param(video(mime_type="video/webm"), None, id="webm"),
        pytest.param(video(mime_type="video/quicktime"), None, id="mov"),
        pytest.param(video(mime_type="video/x-msvideo"), "unsupported_type", id="avi"),
        pytest.param(video(size_bytes=4 * GIB), None, id="at 4 GB"),
        pytest.param(video(size_bytes=4 * GIB + 1), "too_large", id="over 4 GB"),
        pytest.param(video(duration_s=3), None, id="at 3 s"),
        pytest.param(video(duration_s=2.5), "too_short", id="under 3 s"),
        pytest.param(video(duration_s=600), None, id="at 10 min"),
        pytest.param(video(duration_s=601), "too_long_video", id="over 10 min"),
    ],
)
def test_video_limits(media: Media, expected: str | None) -> None:
    fields = {"unsupported_type": "mime_type", "too_large": "size_bytes"}
    path = f"content.media[0].{fields.get(expected or '', 'duration_s')}"
    want = [] if expected is None else [(path, expected)]
    assert found(check(PostContent(media=[media]))) == want


def test_a_creators_own_max_duration_applies() -> None:
    tiktok = DEFAULT_LIMITS.tiktok
    limits = replace(
        DEFAULT_LIMITS, tiktok=replace(tiktok, video=replace(tiktok.video, max_duration_s=180))
    )
    assert check(PostContent(media=[video(duration_s=180)]), limits=limits) == []
    assert found(check(PostContent(media=[video(duration_s=181)]), limits=limits)) == [
        ("content.media[0].duration_s", "too_long_video")
    ]


@pytest.mark.parametrize(
    ("opts", "expected"),
    [
        pytest.param(options(video_cover_timestamp_ms=10_000), [], id="cover at the end"),
        pytest.param(
            options(video_cover_timestamp_ms=10_001),
            [("options.video_cover_timestamp_ms", "out_of_range")],
            id="cover past the end",
        ),
        pytest.param(options(title="hi"), [("options.title", "not_allowed")], id="video title"),
        pytest.param(
            options(brand_content_toggle=True, privacy_level=TikTokPrivacy.SELF_ONLY),
            [("options.privacy_level", "not_allowed")],
            id="private branded content",
        ),
        pytest.param(options(brand_content_toggle=True), [], id="public branded content"),
        pytest.param(options(privacy_level=TikTokPrivacy.SELF_ONLY), [], id="private post"),
    ],
)
def test_video_options(opts: TikTokOptions, expected: list[tuple[str, str]]) -> None:
    assert found(check(PostContent(media=[video(duration_s=10)]), opts)) == expected


@pytest.mark.parametrize(
    ("content", "opts", "expected"),
    [
        pytest.param(PostContent(text="x" * 4000, media=[photo()]), options(), [], id="4,000"),
        pytest.param(
            PostContent(text="x" * 4001, media=[photo()]),
            options(),
            [("content.text", "too_long")],
            id="description one over",
        ),
        pytest.param(PostContent(media=[photo()]), options(title="t" * 90), [], id="title 90"),
        pytest.param(
            PostContent(media=[photo()]),
            options(title="t" * 89 + EMOJI),
            [("options.title", "too_long")],
            id="title 91 units",
        ),
        pytest.param(PostContent(media=[photo()] * 3), options(photo_cover_index=2), [], id="2/3"),
        pytest.param(
            PostContent(media=[photo()] * 3),
            options(photo_cover_index=3),
            [("options.photo_cover_index", "out_of_range")],
            id="cover index past the photos",
        ),
    ],
)
def test_photo_post_texts_and_options(
    content: PostContent, opts: TikTokOptions, expected: list[tuple[str, str]]
) -> None:
    assert found(check(content, opts)) == expected


@pytest.mark.parametrize(
    ("media", "expected"),
    [
        pytest.param(photo(mime_type="image/webp"), [], id="webp"),
        pytest.param(
            photo(mime_type="image/png"),
            [("content.media[0].mime_type", "unsupported_type")],
            id="png",
        ),
        pytest.param(photo(size_bytes=20 * MIB), [], id="at 20 MB"),
        pytest.param(
            photo(size_bytes=20 * MIB + 1),
            [("content.media[0].size_bytes", "too_large")],
            id="over",
        ),
        pytest.param(
            photo(url=AnyHttpUrl("http://cdn.example/a.jpg")),
            [("content.media[0].url", "invalid_url")],
            id="photos are pulled over https only",
        ),
    ],
)
def test_photo_limits(media: Media, expected: list[tuple[str, str]]) -> None:
    assert found(check(PostContent(media=[media]))) == expected


def test_every_violation_is_reported_at_once() -> None:
    content = PostContent(
        text="x" * 4001,
        media=[photo(mime_type="image/png"), photo(url=AnyHttpUrl("http://cdn.example/b.jpg"))],
    )
    opts = options(
        title="t" * 91,
        photo_cover_index=5,
        brand_content_toggle=True,
        privacy_level=TikTokPrivacy.SELF_ONLY,
    )
    violations = check(content, opts)
    assert found(violations) == [
        ("options.privacy_level", "not_allowed"),
        ("content.text", "too_long"),
        ("content.media[0].mime_type", "unsupported_type"),
        ("content.media[1].url", "invalid_url"),
        ("options.title", "too_long"),
        ("options.photo_cover_index", "out_of_range"),
    ]
    assert violations[-1].message == (
        "The cover photo is counted from 0, so with 2 photos it can be 0 to 1; it is 5."
    )
