"""Building blocks the platform rules share: paths, codes, counting, and the media checks.

Every check returns a list of violations and never raises, so a caller can report all of them
at once. Messages are written for the person who composed the post: they name the platform,
the limit and the value found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from herald.content import Media, MediaKind, PostContent
from herald.events import Violation
from herald.rules.limits import MIB, MediaSpec
from herald.topics import Platform


class Code(StrEnum):
    """`Violation.code`: programs (the API, a UI) route on these, so they change only with the
    contract. `too_long` is about text; a video past its length is `too_long_video`."""

    TOO_LONG = "too_long"
    TOO_MANY = "too_many"
    TOO_FEW = "too_few"
    REQUIRED = "required"
    NOT_ALLOWED = "not_allowed"
    UNSUPPORTED_TYPE = "unsupported_type"
    TOO_LARGE = "too_large"
    TOO_SHORT = "too_short"
    TOO_LONG_VIDEO = "too_long_video"
    MIXED_MEDIA = "mixed_media"
    OUT_OF_RANGE = "out_of_range"
    INVALID_FORMAT = "invalid_format"
    INVALID_URL = "invalid_url"
    DUPLICATE = "duplicate"
    WRONG_PLATFORM = "wrong_platform"


def join(base: str, *parts: str | int) -> str:
    """`join("content", "media", 1, "url")` is `content.media[1].url`."""
    path = base
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif path:
            path += f".{part}"
        else:
            path = part
    return path


@dataclass(frozen=True, slots=True)
class Where:
    """Where the content and the options sit in the input being checked: `content` and
    `options` in a `post.requested`, `content` and `targets[i].options` in a submission."""

    content: str
    options: str

    def at(self, *field: str | int) -> str:
        """A path inside the content: `at("text")`, `at("media")`."""
        return join(self.content, *field)

    def text(self) -> str:
        return join(self.content, "text")

    def media(self, index: int, *field: str) -> str:
        return join(self.content, "media", index, *field)

    def option(self, *field: str | int) -> str:
        return join(self.options, *field)


def violation(path: str, code: Code, message: str) -> Violation:
    return Violation(path=path, code=code.value, message=message)


def count_utf16(text: str) -> int:
    """Length as TikTok counts it: UTF-16 code units, so an emoji outside the BMP counts two."""
    return len(text.encode("utf-16-le")) // 2


_HASHTAG = re.compile(r"(?<![\w&#])#(\w+)")
# Instagram usernames are ASCII letters, digits, periods and underscores, never ending in a
# period; the look-behind keeps e-mail addresses out.
_MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?)")


def hashtags(text: str) -> set[str]:
    """Distinct hashtags, case-insensitively: `#Sale #sale` is one tag to the platform."""
    return {tag.casefold() for tag in _HASHTAG.findall(text)}


def mentions(text: str) -> set[str]:
    return {name.casefold() for name in _MENTION.findall(text)}


_MIME_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "video/3gp": "video/3gpp"}

_FORMAT_NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/gif": "GIF",
    "image/bmp": "BMP",
    "image/tiff": "TIFF",
    "image/webp": "WebP",
    "video/mp4": "MP4",
    "video/quicktime": "MOV",
    "video/webm": "WebM",
    "video/3gpp": "3GPP",
    "video/x-msvideo": "AVI",
    "video/avi": "AVI",
    "application/pdf": "PDF",
    "text/plain": "TXT",
}


def normalize_mime(mime_type: str) -> str:
    """`Image/JPG; q=1` is `image/jpeg`: case, parameters and common aliases do not matter."""
    bare = mime_type.split(";", 1)[0].strip().lower()
    return _MIME_ALIASES.get(bare, bare)


def describe_formats(mime_types: Sequence[str]) -> str:
    names = list(dict.fromkeys(_FORMAT_NAMES.get(m, m) for m in mime_types))
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def describe_bytes(size: int) -> str:
    if size >= 1024 * MIB:
        return f"{size / (1024 * MIB):,.3g} GB"
    if size >= MIB:
        return f"{size / MIB:,.3g} MB"
    return f"{size / 1024:,.3g} KB"


def describe_seconds(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"
    return f"{seconds:g} second" if seconds == 1 else f"{seconds:g} seconds"


PLATFORM_NAMES = {
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
    Platform.TIKTOK: "TikTok",
    Platform.WHATSAPP: "WhatsApp",
}


def plural(count: int, noun: str) -> str:
    """`plural(1, "photo")` is "1 photo", `plural(3, "photo")` "3 photos"."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def a(noun: str) -> str:
    """`a("image")` is "an image": media kinds read as English in messages."""
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def item_name(index: int) -> str:
    """How a message names media: people count from one."""
    return f"media item {index + 1}"


def check_length(
    text: str | None,
    *,
    limit: int,
    path: str,
    what: str,
    counter: Callable[[str], int] = len,
) -> list[Violation]:
    """`what` completes "<what> can be at most N characters", e.g. "Instagram captions"."""
    if text is None:
        return []
    length = counter(text)
    if length <= limit:
        return []
    message = f"{what} can be at most {limit:,} characters; this one has {length:,}."
    return [violation(path, Code.TOO_LONG, message)]


def check_media_item(media: Media, index: int, spec: MediaSpec, where: Where) -> list[Violation]:
    """The format, size and duration of one item against a spec, each only when known."""
    return [
        *_check_mime(media, index, spec, where),
        *_check_size(media, index, spec, where),
        *_check_duration(media, index, spec, where),
    ]


def _check_mime(media: Media, index: int, spec: MediaSpec, where: Where) -> list[Violation]:
    if media.mime_type is None or normalize_mime(media.mime_type) in spec.mime_types:
        return []
    message = (
        f"{spec.label} must be {describe_formats(spec.mime_types)}; "
        f"{item_name(index)} is {media.mime_type}."
    )
    return [violation(where.media(index, "mime_type"), Code.UNSUPPORTED_TYPE, message)]


def _check_size(media: Media, index: int, spec: MediaSpec, where: Where) -> list[Violation]:
    if media.size_bytes is None or spec.max_bytes is None or media.size_bytes <= spec.max_bytes:
        return []
    message = (
        f"{spec.label} can be at most {describe_bytes(spec.max_bytes)}; "
        f"{item_name(index)} is {describe_bytes(media.size_bytes)}."
    )
    return [violation(where.media(index, "size_bytes"), Code.TOO_LARGE, message)]


def _check_duration(media: Media, index: int, spec: MediaSpec, where: Where) -> list[Violation]:
    duration = media.duration_s
    if duration is None:
        return []
    path = where.media(index, "duration_s")
    found = f"{item_name(index)} is {describe_seconds(duration)} long"
    if spec.min_duration_s is not None and duration < spec.min_duration_s:
        message = f"{spec.label} must be at least {describe_seconds(spec.min_duration_s)}; {found}."
        return [violation(path, Code.TOO_SHORT, message)]
    if spec.max_duration_s is not None and duration > spec.max_duration_s:
        message = f"{spec.label} can be at most {describe_seconds(spec.max_duration_s)}; {found}."
        return [violation(path, Code.TOO_LONG_VIDEO, message)]
    return []


def indexed(content: PostContent, *kinds: MediaKind) -> list[tuple[int, Media]]:
    """The media of the given kinds, with their index in `content.media`."""
    return [(i, m) for i, m in enumerate(content.media) if m.kind in kinds]


def reject_kinds(
    content: PostContent, where: Where, kinds: Sequence[MediaKind], platform: str
) -> list[Violation]:
    """One violation per item of a kind the platform cannot post at all (documents, mostly)."""
    return [
        violation(
            where.media(i, "kind"),
            Code.UNSUPPORTED_TYPE,
            f"{platform} posts cannot include {a(m.kind.value)}; remove {item_name(i)}.",
        )
        for i, m in indexed(content, *kinds)
    ]


def check_url_schemes(
    urls: Sequence[tuple[str, str]], schemes: Sequence[str], what: str
) -> list[Violation]:
    """`urls` pairs a path with a URL. The models accept http and https; some platforms take
    fewer, and input built without validation (`model_construct`) may hold anything."""
    allowed = " or ".join(schemes)
    found: list[Violation] = []
    for path, url in urls:
        scheme = url.split(":", 1)[0].lower()
        if scheme not in schemes:
            message = f"{what} must be {allowed} addresses; this one starts with {scheme}:."
            found.append(violation(path, Code.INVALID_URL, message))
    return found
