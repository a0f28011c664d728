"""Facebook Page posts: text or a link (`/feed`), photos (`/photos`, several via
`attached_media`), or one video (`/videos`), one of these shapes per post (§1.2)."""

from __future__ import annotations

from herald.content import FacebookOptions, MediaKind, PostContent
from herald.events import Violation
from herald.rules.common import (
    Code,
    Where,
    check_length,
    check_media_item,
    indexed,
    reject_kinds,
    violation,
)
from herald.rules.limits import FacebookLimits


def check(
    content: PostContent, options: FacebookOptions, where: Where, limits: FacebookLimits
) -> list[Violation]:
    # `options` holds only video_title, whose length the model already caps.
    text = check_length(
        content.text, limit=limits.text_max_chars, path=where.text(), what="Facebook posts"
    )
    return [
        *text,
        *_check_shape(content, where),
        *_check_photo_count(content, where, limits),
        *reject_kinds(content, where, [MediaKind.DOCUMENT], "Facebook"),
        *_check_items(content, where, limits),
    ]


def _check_shape(content: PostContent, where: Where) -> list[Violation]:
    photos = indexed(content, MediaKind.IMAGE)
    videos = indexed(content, MediaKind.VIDEO)
    found: list[Violation] = []
    if not (content.text or content.link or content.media):
        message = "A Facebook post needs text, a link, photos or a video."
        found.append(violation(where.content, Code.REQUIRED, message))
    if photos and videos:
        message = "A Facebook post can have photos or one video, not both; remove the video."
        found.extend(violation(where.media(i), Code.MIXED_MEDIA, message) for i, _ in videos)
    elif len(videos) > 1:
        message = f"A Facebook post can have one video; this one has {len(videos)}."
        found.append(violation(where.at("media"), Code.TOO_MANY, message))
    if content.link is not None and content.media:
        # /photos and /videos take no link, and /feed shows either a link preview or the
        # attached photos; the link still reaches readers when it is part of the text.
        message = (
            "A Facebook post shows either a link preview or media, not both; "
            "put the link in the text instead."
        )
        found.append(violation(where.at("link"), Code.MIXED_MEDIA, message))
    return found


def _check_photo_count(
    content: PostContent, where: Where, limits: FacebookLimits
) -> list[Violation]:
    count = len(indexed(content, MediaKind.IMAGE))
    if limits.photos_max is None or count <= limits.photos_max:
        return []
    message = f"A Facebook post can have at most {limits.photos_max} photos; this one has {count}."
    return [violation(where.at("media"), Code.TOO_MANY, message)]


def _check_items(content: PostContent, where: Where, limits: FacebookLimits) -> list[Violation]:
    specs = {MediaKind.IMAGE: limits.photo, MediaKind.VIDEO: limits.video}
    found: list[Violation] = []
    for index, media in enumerate(content.media):
        spec = specs.get(media.kind)
        if spec is not None:
            found.extend(check_media_item(media, index, spec, where))
    return found
