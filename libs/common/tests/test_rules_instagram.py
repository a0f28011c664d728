"""Instagram content rules, table by table: captions, each kind's media, and reel options."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pydantic import AnyHttpUrl

from herald.content import InstagramKind, InstagramOptions, Media, MediaKind, PostContent
from herald.events import Violation
from herald.rules import DEFAULT_LIMITS, Limits, check_target
from herald.rules.limits import MIB
from herald.topics import Platform

pytestmark = pytest.mark.unit

URL = AnyHttpUrl("https://cdn.example/file")
FEED, REEL = InstagramKind.FEED, InstagramKind.REEL
STORY, CAROUSEL = InstagramKind.STORY, InstagramKind.CAROUSEL


def image(**fields: Any) -> Media:
    return Media(kind=MediaKind.IMAGE, **{"url": URL, "mime_type": "image/jpeg", **fields})


def video(**fields: Any) -> Media:
    return Media(kind=MediaKind.VIDEO, **{"url": URL, "mime_type": "video/mp4", **fields})


def check(
    content: PostContent,
    kind: InstagramKind = FEED,
    limits: Limits = DEFAULT_LIMITS,
    **options: Any,
) -> list[Violation]:
    return check_target(
        content, Platform.INSTAGRAM, InstagramOptions(kind=kind, **options), limits=limits
    )


def found(violations: list[Violation]) -> list[tuple[str, str]]:
    return [(v.path, v.code) for v in violations]


def tags(prefix: str, count: int) -> str:
    return " ".join(f"{prefix}tag{i}" for i in range(count))


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        pytest.param("x" * 2200, FEED, [], id="caption at 2,200"),
        pytest.param("x" * 2201, FEED, [("content.text", "too_long")], id="caption one over"),
        pytest.param(tags("#", 30), FEED, [], id="30 hashtags"),
        pytest.param(tags("#", 31), FEED, [("content.text", "too_many")], id="31 hashtags"),
        pytest.param("#same #Same #SAME " + tags("#", 29), FEED, [], id="repeats count once"),
        pytest.param(tags("@", 20), FEED, [], id="20 mentions"),
        pytest.param(tags("@", 21), FEED, [("content.text", "too_many")], id="21 mentions"),
        pytest.param(tags("@", 20) + " ask@shop.example", FEED, [], id="e-mail is no mention"),
        pytest.param("x" * 5000, STORY, [], id="stories send no caption"),
    ],
)
def test_caption_limits(text: str, kind: InstagramKind, expected: list[tuple[str, str]]) -> None:
    assert found(check(PostContent(text=text, media=[image()]), kind)) == expected


@pytest.mark.parametrize(
    ("kind", "media", "expected"),
    [
        pytest.param(FEED, [image()], [], id="feed image"),
        pytest.param(FEED, [], [("content.media", "required")], id="feed without media"),
        pytest.param(FEED, [image(), image()], [("content.media", "too_many")], id="feed of two"),
        pytest.param(
            FEED, [video()], [("content.media[0].kind", "unsupported_type")], id="feed video"
        ),
        pytest.param(REEL, [video()], [], id="reel"),
        pytest.param(REEL, [], [("content.media", "required")], id="reel without video"),
        pytest.param(
            REEL, [image()], [("content.media[0].kind", "unsupported_type")], id="reel of an image"
        ),
        pytest.param(REEL, [video(), video()], [("content.media", "too_many")], id="two reels"),
        pytest.param(STORY, [image()], [], id="image story"),
        pytest.param(STORY, [video()], [], id="video story"),
        pytest.param(STORY, [image(), video()], [("content.media", "too_many")], id="story of two"),
        pytest.param(CAROUSEL, [image()], [("content.media", "too_few")], id="carousel of one"),
        pytest.param(CAROUSEL, [image(), video()], [], id="carousel of two"),
        pytest.param(CAROUSEL, [image()] * 10, [], id="carousel of ten"),
        pytest.param(
            CAROUSEL, [image()] * 11, [("content.media", "too_many")], id="carousel of eleven"
        ),
        pytest.param(
            FEED,
            [Media(kind=MediaKind.DOCUMENT, url=URL)],
            [("content.media[0].kind", "unsupported_type")],
            id="document reported once",
        ),
    ],
)
def test_media_per_kind(
    kind: InstagramKind, media: list[Media], expected: list[tuple[str, str]]
) -> None:
    assert found(check(PostContent(media=media), kind)) == expected


def test_feed_video_can_be_allowed_by_limits() -> None:
    limits = replace(
        DEFAULT_LIMITS, instagram=replace(DEFAULT_LIMITS.instagram, feed_allows_video=True)
    )
    assert check(PostContent(media=[video()]), FEED, limits) == []


@pytest.mark.parametrize(
    ("kind", "media", "expected"),
    [
        pytest.param(FEED, image(size_bytes=8 * MIB), None, id="image at 8 MB"),
        pytest.param(FEED, image(size_bytes=8 * MIB + 1), "size_bytes", id="image over 8 MB"),
        pytest.param(FEED, image(mime_type="image/png"), "mime_type", id="png image"),
        pytest.param(STORY, image(mime_type="image/webp"), "mime_type", id="webp story"),
        pytest.param(REEL, video(duration_s=3), None, id="reel at 3 s"),
        pytest.param(REEL, video(duration_s=2.9), "duration_s", id="reel under 3 s"),
        pytest.param(REEL, video(duration_s=900), None, id="reel at 15 min"),
        pytest.param(REEL, video(duration_s=901), "duration_s", id="reel over 15 min"),
        pytest.param(REEL, video(size_bytes=300 * MIB), None, id="reel at 300 MB"),
        pytest.param(REEL, video(size_bytes=300 * MIB + 1), "size_bytes", id="reel over 300 MB"),
        pytest.param(REEL, video(mime_type="video/quicktime"), None, id="mov reel"),
        pytest.param(REEL, video(mime_type="video/webm"), "mime_type", id="webm reel"),
        pytest.param(STORY, video(duration_s=60), None, id="story at 60 s"),
        pytest.param(STORY, video(duration_s=61), "duration_s", id="story over 60 s"),
        pytest.param(STORY, video(size_bytes=100 * MIB), None, id="story at 100 MB"),
        pytest.param(STORY, video(size_bytes=100 * MIB + 1), "size_bytes", id="story over"),
    ],
)
def test_media_specs(kind: InstagramKind, media: Media, expected: str | None) -> None:
    codes = {
        "size_bytes": "too_large",
        "mime_type": "unsupported_type",
        "duration_s": "too_short" if (media.duration_s or 0) < 3 else "too_long_video",
    }
    want = [] if expected is None else [(f"content.media[0].{expected}", codes[expected])]
    assert found(check(PostContent(media=[media]), kind)) == want


@pytest.mark.parametrize(
    ("kind", "options", "expected"),
    [
        pytest.param(REEL, {"cover_url": URL, "thumb_offset_ms": 10_000}, [], id="reel cover"),
        pytest.param(
            REEL,
            {"thumb_offset_ms": 10_001},
            [("options.thumb_offset_ms", "out_of_range")],
            id="cover frame past the end",
        ),
        pytest.param(
            FEED, {"cover_url": URL}, [("options.cover_url", "not_allowed")], id="feed cover"
        ),
        pytest.param(
            CAROUSEL,
            {"thumb_offset_ms": 0},
            [("options.thumb_offset_ms", "not_allowed")],
            id="carousel cover frame",
        ),
        pytest.param(REEL, {"collaborators": ["a", "b", "c"]}, [], id="three collaborators"),
        pytest.param(
            STORY,
            {"collaborators": ["a"]},
            [("options.collaborators", "not_allowed")],
            id="story collaborators",
        ),
    ],
)
def test_options(
    kind: InstagramKind, options: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    media = {REEL: [video(duration_s=10)], FEED: [image()], CAROUSEL: [image(), image()]}
    content = PostContent(media=media.get(kind, [video(duration_s=10)]))
    assert found(check(content, kind, **options)) == expected


def test_collaborator_cap_comes_from_limits() -> None:
    limits = replace(
        DEFAULT_LIMITS, instagram=replace(DEFAULT_LIMITS.instagram, collaborators_max=2)
    )
    content = PostContent(media=[image()])
    assert found(check(content, FEED, limits, collaborators=["a", "b"])) == []
    assert found(check(content, FEED, limits, collaborators=["a", "b", "c"])) == [
        ("options.collaborators", "too_many")
    ]


def test_every_violation_is_reported_at_once() -> None:
    content = PostContent(
        text=tags("#", 34) + " " + tags("@", 21) + " " + "x" * 2200,
        media=[image(mime_type="image/png", size_bytes=9 * MIB)],
    )
    violations = check(content, CAROUSEL, cover_url=URL)
    assert found(violations) == [
        ("content.text", "too_long"),
        ("content.text", "too_many"),
        ("content.text", "too_many"),
        ("content.media", "too_few"),
        ("content.media[0].mime_type", "unsupported_type"),
        ("content.media[0].size_bytes", "too_large"),
        ("options.cover_url", "not_allowed"),
    ]
    assert violations[1].message == (
        "Instagram captions can have at most 30 hashtags; this one has 34."
    )
