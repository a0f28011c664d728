"""The Facebook flow's pure rules: which shape a post takes, and how a post found on the Page
is recognised as ours after an ambiguous call (security-reliability.md §6.4).

Graph has no idempotency key for `/feed`, so the marker is what we control: a fingerprint of
the text and link we sent, checkpointed with the time just before the call. A post on the Page
with the same fingerprint, created no earlier than that time (less the allowed clock skew), is
the one that went out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from herald.content import MediaKind, PostContent
from publisher_facebook.ports import PagePost

# Checkpoint steps, in flow order.
PHOTOS_UPLOADING = "photos_uploading"
FEED_CALL_STARTED = "feed_call_started"
VIDEO_PROCESSING = "video_processing"

PERMALINK_BASE = "https://www.facebook.com"


class Shape(StrEnum):
    TEXT = "text"  # text and/or link: /feed
    PHOTO = "photo"  # one photo: /photos
    PHOTOS = "photos"  # several: unpublished /photos, then /feed with attached_media
    VIDEO = "video"  # one video by file_url: /videos


def shape_of(content: PostContent) -> Shape:
    kinds = [m.kind for m in content.media]
    if MediaKind.VIDEO in kinds:
        return Shape.VIDEO
    photos = kinds.count(MediaKind.IMAGE)
    if photos > 1:
        return Shape.PHOTOS
    return Shape.PHOTO if photos == 1 else Shape.TEXT


def fingerprint(message: str | None, link: str | None) -> str:
    digest = hashlib.sha256(f"{message or ''}\x1f{link or ''}".encode())
    return digest.hexdigest()[:32]


def find_ours(
    posts: Iterable[PagePost],
    *,
    marker: str,
    started_at: datetime,
    skew: timedelta,
    with_link: bool = True,
) -> PagePost | None:
    """The earliest post carrying `marker` created after `started_at` (less `skew`)."""
    earliest = started_at - skew
    matches = [
        p
        for p in posts
        if fingerprint(p.message, p.link if with_link else None) == marker
        and (p.created_at is None or p.created_at >= earliest)
    ]
    matches.sort(key=lambda p: p.created_at or started_at)
    return matches[0] if matches else None


def permalink(post_id: str) -> str:
    """A Page post's address (platform-apis.md §1.2)."""
    return f"{PERMALINK_BASE}/{post_id}"


def absolute(link: str | None) -> str | None:
    """Graph gives video permalinks as paths (`/{page}/videos/{id}/`)."""
    if link is None or link.startswith(("http://", "https://")):
        return link
    return f"{PERMALINK_BASE}{link}"
