"""The Instagram flow's pure rules: container parameters per kind, what a container status
means for the flow, and how our published media is recognised (platform-apis.md §2.2, §2.4)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from herald.content import InstagramKind, InstagramOptions, Media, MediaKind, PostContent

# Checkpoint steps, in flow order.
CHILDREN_CREATED = "children_created"
CONTAINER_CREATED = "container_created"
PUBLISH_CALL_STARTED = "publish_call_started"
MEDIA_PUBLISHED = "media_published"

# An ERROR container whose subcode says the media itself is unusable: a new container would
# fail the same way, so the post fails instead (the rest are retried with a new container).
MEDIA_ERRORS = frozenset({"2207004", "2207005", "2207009", "2207026", "2207052", "2207057"})
_SUBCODE = re.compile(r"\b(2207\d{3})\b")


class Status(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    FINISHED = "FINISHED"
    PUBLISHED = "PUBLISHED"
    ERROR = "ERROR"
    EXPIRED = "EXPIRED"


def product_type(options: InstagramOptions, content: PostContent) -> str:
    """What `media_product_type` the published media will have: FEED, REELS or STORY."""
    if options.kind is InstagramKind.STORY:
        return "STORY"
    if options.kind is InstagramKind.REEL or _single_video(content, options):
        # Single feed videos are published as reels since July 2023.
        return "REELS"
    return "FEED"


def main_params(content: PostContent, options: InstagramOptions) -> dict[str, Any]:
    """The parameters of the container that gets published (the parent, for a carousel)."""
    if options.kind is InstagramKind.CAROUSEL:
        return {
            "media_type": "CAROUSEL",
            "caption": content.text,
            "collaborators": options.collaborators or None,
            "location_id": options.location_id,
        }
    [media] = content.media
    if options.kind is InstagramKind.STORY:
        # Stories take no caption, collaborators or location (§2.2).
        return {"media_type": "STORIES", **_source(media)}
    if product_type(options, content) == "REELS":
        return {
            "media_type": "REELS",
            "video_url": str(media.url),
            "caption": content.text,
            "share_to_feed": options.share_to_feed,
            "cover_url": None if options.cover_url is None else str(options.cover_url),
            "thumb_offset": options.thumb_offset_ms,
            "collaborators": options.collaborators or None,
            "location_id": options.location_id,
        }
    return {
        "image_url": str(media.url),
        "caption": content.text,
        "alt_text": media.alt_text,
        "collaborators": options.collaborators or None,
        "location_id": options.location_id,
    }


def child_params(media: Media) -> dict[str, Any]:
    """A carousel item: an image, or a video (`media_type=VIDEO`)."""
    params: dict[str, Any] = {"is_carousel_item": True, **_source(media)}
    if media.kind is MediaKind.IMAGE:
        params["alt_text"] = media.alt_text
    return params


def _source(media: Media) -> dict[str, Any]:
    if media.kind is MediaKind.VIDEO:
        return {"media_type": "VIDEO", "video_url": str(media.url)}
    return {"image_url": str(media.url)}


def _single_video(content: PostContent, options: InstagramOptions) -> bool:
    kinds = [m.kind for m in content.media]
    return options.kind is InstagramKind.FEED and kinds == [MediaKind.VIDEO]


def error_subcode(status_text: str | None) -> str | None:
    """The subcode Graph names in an ERROR container's `status` text."""
    found = _SUBCODE.search(status_text or "")
    return found.group(1) if found else None


def needs_new_container(status: str) -> bool:
    return status in (Status.EXPIRED, Status.ERROR)


def is_ours(
    item_caption: str | None,
    item_product: str | None,
    item_time: datetime | None,
    *,
    caption: str | None,
    product: str,
    since: datetime,
    skew: timedelta,
) -> bool:
    """Whether a media on the account is the one our container became."""
    if item_product is not None and item_product != product:
        return False
    if product != "STORY" and (item_caption or None) != (caption or None):
        return False
    return item_time is None or item_time >= since - skew


def pick_ours(candidates: Iterable[tuple[Any, bool]]) -> Any | None:
    """The first candidate that matched (lists come newest first; ours is the oldest match)."""
    matched = [item for item, ok in candidates if ok]
    return matched[-1] if matched else None
