"""TikTok Content Posting API: one video, or a photo post of 1 to 35 images, never both (§4.2).

The post text is a video's caption (`post_info.title`) or a photo post's description; a photo
post also has its own short title (`TikTokOptions.title`). TikTok counts text in UTF-16 units.
"""

from __future__ import annotations

from herald.content import MediaKind, PostContent, TikTokOptions, TikTokPrivacy
from herald.events import Violation
from herald.rules.common import (
    Code,
    Where,
    check_length,
    check_media_item,
    check_url_schemes,
    count_utf16,
    describe_seconds,
    indexed,
    reject_kinds,
    violation,
)
from herald.rules.limits import TikTokLimits


def check(
    content: PostContent, options: TikTokOptions | None, where: Where, limits: TikTokLimits
) -> list[Violation]:
    photos = indexed(content, MediaKind.IMAGE)
    videos = indexed(content, MediaKind.VIDEO)
    found = [
        *reject_kinds(content, where, [MediaKind.DOCUMENT], "TikTok"),
        *_check_shape(len(photos), len(videos), where, limits),
    ]
    if options is None:
        # The model makes privacy_level required, so a TikTok target without options lacks it.
        message = "A TikTok post needs a privacy level: choose who can see it."
        found.append(violation(where.option("privacy_level"), Code.REQUIRED, message))
    else:
        found.extend(_check_branded_privacy(options, where, limits))
    if videos and not photos:
        found.extend(_check_video_post(content, options, where, limits))
    elif photos and not videos:
        found.extend(_check_photo_post(content, options, where, limits))
    return found


def _check_shape(photos: int, videos: int, where: Where, limits: TikTokLimits) -> list[Violation]:
    path = where.at("media")
    wanted = f"one video or 1 to {limits.photos_max} photos"
    if photos and videos:
        message = f"A TikTok post is {wanted}, never both; this one has videos and photos."
        return [violation(path, Code.MIXED_MEDIA, message)]
    if not photos and not videos:
        return [violation(path, Code.REQUIRED, f"A TikTok post needs {wanted}.")]
    if videos > 1:
        message = f"A TikTok post can have one video; this one has {videos}."
        return [violation(path, Code.TOO_MANY, message)]
    if photos > limits.photos_max:
        message = f"A TikTok photo post can have at most {limits.photos_max} photos; "
        message += f"this one has {photos}."
        return [violation(path, Code.TOO_MANY, message)]
    return []


def _check_branded_privacy(
    options: TikTokOptions, where: Where, limits: TikTokLimits
) -> list[Violation]:
    private = options.privacy_level is TikTokPrivacy.SELF_ONLY
    if not (options.brand_content_toggle and private) or limits.branded_content_allows_private:
        return []
    message = (
        "TikTok does not allow branded content to be private (only me); "
        "choose another privacy level or turn off branded content."
    )
    return [violation(where.option("privacy_level"), Code.NOT_ALLOWED, message)]


def _check_video_post(
    content: PostContent, options: TikTokOptions | None, where: Where, limits: TikTokLimits
) -> list[Violation]:
    index, video = indexed(content, MediaKind.VIDEO)[0]
    found = check_length(
        content.text,
        limit=limits.video_caption_max_utf16,
        path=where.text(),
        what="TikTok video captions",
        counter=count_utf16,
    )
    found.extend(check_media_item(video, index, limits.video, where))
    if options is None:
        return found
    if options.title is not None:
        message = "A title applies only to TikTok photo posts; a video's caption is the post text."
        found.append(violation(where.option("title"), Code.NOT_ALLOWED, message))
    cover = options.video_cover_timestamp_ms
    if cover is not None and video.duration_s is not None and cover > video.duration_s * 1000:
        message = (
            f"The cover frame must be within the video: it is at {describe_seconds(cover / 1000)}"
            f", but the video is {describe_seconds(video.duration_s)} long."
        )
        found.append(
            violation(where.option("video_cover_timestamp_ms"), Code.OUT_OF_RANGE, message)
        )
    return found


def _check_photo_post(
    content: PostContent, options: TikTokOptions | None, where: Where, limits: TikTokLimits
) -> list[Violation]:
    photos = indexed(content, MediaKind.IMAGE)
    found = check_length(
        content.text,
        limit=limits.photo_description_max_utf16,
        path=where.text(),
        what="TikTok photo descriptions",
        counter=count_utf16,
    )
    for index, photo in photos:
        found.extend(check_media_item(photo, index, limits.photo, where))
    urls = [(where.media(i, "url"), str(photo.url)) for i, photo in photos]
    found.extend(check_url_schemes(urls, limits.photo_url_schemes, "TikTok photo URLs"))
    if options is not None:
        found.extend(_check_photo_options(options, len(photos), where, limits))
    return found


def _check_photo_options(
    options: TikTokOptions, count: int, where: Where, limits: TikTokLimits
) -> list[Violation]:
    found = check_length(
        options.title,
        limit=limits.photo_title_max_utf16,
        path=where.option("title"),
        what="TikTok photo titles",
        counter=count_utf16,
    )
    if options.photo_cover_index >= count:
        allowed = "must be 0" if count == 1 else f"can be 0 to {count - 1}"
        message = (
            f"The cover photo is counted from 0, so with {count} photo{'s' * (count > 1)} it "
            f"{allowed}; it is {options.photo_cover_index}."
        )
        found.append(violation(where.option("photo_cover_index"), Code.OUT_OF_RANGE, message))
    return found
