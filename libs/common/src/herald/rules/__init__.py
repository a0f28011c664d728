"""Content rules: does a post fit each platform it is meant for?

The scheduler checks a whole submission before accepting it, and each publisher checks its one
target again before calling its platform, so a post is refused with every reason at once rather
than failing at the platform one error at a time. Both calls return all violations, each with a
path into the checked input (`content.media[1].size_bytes`, `targets[2].options.privacy_level`),
a sentence for the person who wrote the post, and a short code for programs.

The limits are data (`herald.rules.limits`), cited to their sources; pass `limits=` to check
against other values, such as a TikTok creator's own maximum video length.
"""

from __future__ import annotations

from herald.content import (
    FacebookOptions,
    InstagramOptions,
    PostContent,
    TargetOptions,
    TikTokOptions,
    WhatsAppOptions,
)
from herald.events import PostSubmitted, Violation
from herald.rules import facebook, instagram, tiktok, whatsapp
from herald.rules.common import PLATFORM_NAMES, Code, Where, check_url_schemes, join, violation
from herald.rules.limits import DEFAULT_LIMITS, Limits
from herald.topics import Platform

__all__ = ["DEFAULT_LIMITS", "Code", "Limits", "check_submission", "check_target"]


def check_target(
    content: PostContent,
    platform: Platform,
    options: TargetOptions | None,
    *,
    path: str = "",
    limits: Limits = DEFAULT_LIMITS,
) -> list[Violation]:
    """Every way `content` with `options` breaks `platform`'s rules; empty when it fits.
    Paths are `content.…` and `options.…`, as in `post.requested`, under `path` if given."""
    where = Where(content=join(path, "content"), options=join(path, "options"))
    return _unique(_check(content, platform, options, where, limits))


def check_submission(
    submission: PostSubmitted, *, limits: Limits = DEFAULT_LIMITS
) -> list[Violation]:
    """Every violation of every target of a submission. Whether the content fits is a question
    per target, so a platform's verdict on it is under that target (`targets[1].content.text`):
    two targets refusing the same field never share a path. A URL's scheme is wrong whatever
    the target, so that is said once, under `content`."""
    found = _check_urls(submission.content, Where(content="content", options="options"))
    for index, target in enumerate(submission.targets):
        where = Where(
            content=join("targets", index, "content"), options=join("targets", index, "options")
        )
        found.extend(
            _check_platform(submission.content, target.platform, target.options, where, limits)
        )
    return _unique(found)


def _check(
    content: PostContent,
    platform: Platform,
    options: TargetOptions | None,
    where: Where,
    limits: Limits,
) -> list[Violation]:
    return _check_urls(content, where) + _check_platform(content, platform, options, where, limits)


def _check_platform(
    content: PostContent,
    platform: Platform,
    options: TargetOptions | None,
    where: Where,
    limits: Limits,
) -> list[Violation]:
    found: list[Violation] = []
    if options is not None and options.platform != platform:
        message = (
            f"These options are for {PLATFORM_NAMES[Platform(options.platform)]}, "
            f"but the target is {PLATFORM_NAMES[platform]}."
        )
        found.append(violation(where.option("platform"), Code.WRONG_PLATFORM, message))
        options = None
    match platform:
        case Platform.FACEBOOK:
            fb = options if isinstance(options, FacebookOptions) else FacebookOptions()
            found.extend(facebook.check(content, fb, where, limits.facebook))
        case Platform.INSTAGRAM:
            ig = options if isinstance(options, InstagramOptions) else InstagramOptions()
            found.extend(instagram.check(content, ig, where, limits.instagram))
        case Platform.TIKTOK:
            tt = options if isinstance(options, TikTokOptions) else None
            found.extend(tiktok.check(content, tt, where, limits.tiktok))
        case Platform.WHATSAPP:
            wa = options if isinstance(options, WhatsAppOptions) else WhatsAppOptions()
            found.extend(whatsapp.check(content, wa, where, limits.whatsapp))
    return found


def _check_urls(content: PostContent, where: Where) -> list[Violation]:
    urls = [(where.media(i, "url"), str(m.url)) for i, m in enumerate(content.media)]
    if content.link is not None:
        urls.append((where.at("link"), str(content.link)))
    return check_url_schemes(urls, ("http", "https"), "Links and media URLs")


def _unique(violations: list[Violation]) -> list[Violation]:
    return list(dict.fromkeys(violations))
