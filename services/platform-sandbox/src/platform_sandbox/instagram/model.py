"""Instagram containers and published media, with the container `status_code` state machine.

A container is `IN_PROGRESS` until its processing time passes, then `FINISHED`; `PUBLISHED`
once published; `ERROR` when its media could not be used; `EXPIRED` when 24 h pass unpublished.
A carousel parent is as ready as its least ready child. Status is computed from the clock, so no
background work is needed and a test can move time forward.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from platform_sandbox.ratelimit import SlidingLog


class StatusCode(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    FINISHED = "FINISHED"
    PUBLISHED = "PUBLISHED"
    ERROR = "ERROR"
    EXPIRED = "EXPIRED"


@dataclass
class Container:
    id: str
    ig_user_id: str
    media_type: str  # IMAGE, VIDEO, REELS, STORIES, CAROUSEL
    is_carousel_item: bool
    children: list[str]
    caption: str | None
    media_url: str | None
    created_at: float
    ready_at: float
    expires_at: float
    error_subcode: int | None = None
    published_media_id: str | None = None
    is_video: bool = False
    fetching: bool = False  # the platform is still downloading video_url


@dataclass
class IgMedia:
    id: str
    ig_user_id: str
    media_type: str  # IMAGE, VIDEO, CAROUSEL_ALBUM
    media_product_type: str  # FEED, REELS, STORY
    caption: str | None
    timestamp: float
    shortcode: str
    children: list[str]
    container_id: str
    media_url: str | None
    parent_id: str | None = None  # album children have no insights of their own

    @property
    def permalink(self) -> str:
        kind = "reel" if self.media_product_type == "REELS" else "p"
        return f"https://www.instagram.com/{kind}/{self.shortcode}/"


def own_status(container: Container, now: float) -> StatusCode:
    if container.published_media_id is not None:
        return StatusCode.PUBLISHED
    if now >= container.expires_at:
        return StatusCode.EXPIRED
    if container.error_subcode is not None:
        return StatusCode.ERROR
    if container.fetching or now < container.ready_at:
        return StatusCode.IN_PROGRESS
    return StatusCode.FINISHED


_RANK = {
    StatusCode.ERROR: 0,
    StatusCode.EXPIRED: 1,
    StatusCode.IN_PROGRESS: 2,
    StatusCode.FINISHED: 3,
    StatusCode.PUBLISHED: 4,
}


def status_of(container: Container, children: list[Container], now: float) -> StatusCode:
    """A parent's status, held back by its least ready child (children only count unpublished)."""
    mine = own_status(container, now)
    if mine in (StatusCode.PUBLISHED, StatusCode.EXPIRED) or not children:
        return mine
    worst = min((own_status(child, now) for child in children), key=_RANK.__getitem__)
    if worst is StatusCode.FINISHED:
        return mine
    return worst if _RANK[worst] < _RANK[mine] else mine


def status_text(status: StatusCode, subcode: int | None) -> str:
    if status is StatusCode.ERROR:
        return f"Error: Media upload has failed with error code {subcode}"
    if status is StatusCode.IN_PROGRESS:
        return "In Progress: Media is still being processed."
    if status is StatusCode.EXPIRED:
        return "Expired: Media was not published within 24 hours."
    if status is StatusCode.PUBLISHED:
        return "Published: Media has been published."
    return "Finished: Media has been uploaded and it is ready to be published."


@dataclass
class InstagramStore:
    containers: dict[str, Container] = field(default_factory=dict)
    media: dict[str, IgMedia] = field(default_factory=dict)
    publishes: SlidingLog = field(default_factory=SlidingLog)
    created: SlidingLog = field(default_factory=SlidingLog)
