"""Instagram professional accounts: a feed image, a reel, a story or a carousel (§2.2).

Each kind is one container with its own media rules; the caption rules apply to every kind
that has a caption (stories have none, so their text is not sent and not checked).
"""

from __future__ import annotations

from herald.content import InstagramKind, InstagramOptions, Media, MediaKind, PostContent
from herald.events import Violation
from herald.rules.common import (
    Code,
    Where,
    a,
    check_length,
    check_media_item,
    describe_seconds,
    hashtags,
    item_name,
    mentions,
    reject_kinds,
    violation,
)
from herald.rules.limits import InstagramLimits, MediaSpec

IMAGE, VIDEO = MediaKind.IMAGE, MediaKind.VIDEO
_KIND_NAMES = {
    InstagramKind.FEED: "a feed post",
    InstagramKind.REEL: "a reel",
    InstagramKind.STORY: "a story",
    InstagramKind.CAROUSEL: "a carousel",
}


def check(
    content: PostContent, options: InstagramOptions, where: Where, limits: InstagramLimits
) -> list[Violation]:
    return [
        *_check_caption(content, options, where, limits),
        *reject_kinds(content, where, [MediaKind.DOCUMENT], "Instagram"),
        *_check_shape(content, options, where, limits),
        *_check_items(content, options, where, limits),
        *_check_reel_options(content, options, where),
        *_check_collaborators(options, where, limits),
    ]


def _check_caption(
    content: PostContent, options: InstagramOptions, where: Where, limits: InstagramLimits
) -> list[Violation]:
    text = content.text
    if text is None or options.kind is InstagramKind.STORY:
        return []
    found = check_length(
        text, limit=limits.caption_max_chars, path=where.text(), what="Instagram captions"
    )
    for noun, count, limit in (
        ("hashtags", len(hashtags(text)), limits.caption_max_hashtags),
        ("@mentions", len(mentions(text)), limits.caption_max_mentions),
    ):
        if count > limit:
            message = f"Instagram captions can have at most {limit} {noun}; this one has {count}."
            found.append(violation(where.text(), Code.TOO_MANY, message))
    return found


def _check_shape(
    content: PostContent, options: InstagramOptions, where: Where, limits: InstagramLimits
) -> list[Violation]:
    match options.kind:
        case InstagramKind.CAROUSEL:
            return _check_carousel_count(content, where, limits)
        case InstagramKind.REEL:
            return _check_single(content, where, (VIDEO,), "An Instagram reel", "one video")
        case InstagramKind.STORY:
            return _check_single(
                content, where, (IMAGE, VIDEO), "An Instagram story", "one image or video"
            )
        case InstagramKind.FEED:
            kinds = (IMAGE, VIDEO) if limits.feed_allows_video else (IMAGE,)
            wanted = "one image or video" if limits.feed_allows_video else "one image"
            hint = " Choose the carousel kind to post several."
            return _check_single(
                content, where, kinds, "An Instagram feed post", wanted, several_hint=hint
            )


def _check_single(
    content: PostContent,
    where: Where,
    kinds: tuple[MediaKind, ...],
    post: str,
    wanted: str,
    *,
    several_hint: str = "",
) -> list[Violation]:
    count = len(content.media)
    if count == 0:
        return [violation(where.at("media"), Code.REQUIRED, f"{post} needs {wanted}.")]
    if count > 1:
        message = f"{post} has {wanted}; this one has {count} media items.{several_hint}"
        return [violation(where.at("media"), Code.TOO_MANY, message)]
    kind = content.media[0].kind
    if kind in kinds or kind is MediaKind.DOCUMENT:
        return []  # documents are reported once, by reject_kinds
    message = f"{post} is {wanted}; {item_name(0)} is {a(kind.value)}."
    if kind is VIDEO:
        message += " Choose the reel kind to post a single video."
    return [violation(where.media(0, "kind"), Code.UNSUPPORTED_TYPE, message)]


def _check_carousel_count(
    content: PostContent, where: Where, limits: InstagramLimits
) -> list[Violation]:
    count = len(content.media)
    low, high = limits.carousel_min_items, limits.carousel_max_items
    if low <= count <= high:
        return []
    code = Code.TOO_FEW if count < low else Code.TOO_MANY
    message = f"An Instagram carousel has {low} to {high} images or videos; this one has {count}."
    return [violation(where.at("media"), code, message)]


def _spec_for(options: InstagramOptions, media: Media, limits: InstagramLimits) -> MediaSpec | None:
    specs: dict[InstagramKind, dict[MediaKind, MediaSpec]] = {
        InstagramKind.FEED: {IMAGE: limits.image, VIDEO: limits.reel_video},
        InstagramKind.REEL: {VIDEO: limits.reel_video},
        InstagramKind.STORY: {IMAGE: limits.story_image, VIDEO: limits.story_video},
        InstagramKind.CAROUSEL: {IMAGE: limits.image, VIDEO: limits.carousel_video},
    }
    return specs[options.kind].get(media.kind)


def _check_items(
    content: PostContent, options: InstagramOptions, where: Where, limits: InstagramLimits
) -> list[Violation]:
    found: list[Violation] = []
    for index, media in enumerate(content.media):
        spec = _spec_for(options, media, limits)
        if spec is not None:
            found.extend(check_media_item(media, index, spec, where))
    return found


def _check_reel_options(
    content: PostContent, options: InstagramOptions, where: Where
) -> list[Violation]:
    if options.kind is not InstagramKind.REEL:
        kind = _KIND_NAMES[options.kind]
        return [
            violation(
                where.option(name),
                Code.NOT_ALLOWED,
                f"A cover ({name}) applies only to Instagram reels, not to {kind}.",
            )
            for name in ("cover_url", "thumb_offset_ms")
            if getattr(options, name) is not None
        ]
    video = content.media[0] if len(content.media) == 1 else None
    offset = options.thumb_offset_ms
    if offset is None or video is None or video.duration_s is None:
        return []
    if offset <= video.duration_s * 1000:
        return []
    # Instagram refuses the container with 2207057, "thumbnail offset out of range" (§2.4).
    message = (
        f"The cover frame must be within the video: it is at {describe_seconds(offset / 1000)}, "
        f"but the video is {describe_seconds(video.duration_s)} long."
    )
    return [violation(where.option("thumb_offset_ms"), Code.OUT_OF_RANGE, message)]


def _check_collaborators(
    options: InstagramOptions, where: Where, limits: InstagramLimits
) -> list[Violation]:
    count = len(options.collaborators)
    path = where.option("collaborators")
    if count and options.kind is InstagramKind.STORY:
        message = "Instagram stories cannot have collaborators."
        return [violation(path, Code.NOT_ALLOWED, message)]
    if count > limits.collaborators_max:
        message = (
            f"An Instagram post can have at most {limits.collaborators_max} collaborators; "
            f"this one has {count}."
        )
        return [violation(path, Code.TOO_MANY, message)]
    return []
