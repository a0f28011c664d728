"""What Pages hold once Herald has published: posts, photos and videos."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PagePost:
    id: str
    page_id: str
    message: str | None
    link: str | None
    attached_media: list[str]
    published: bool
    scheduled_publish_time: int | None
    created_time: float
    app_id: str


@dataclass
class Photo:
    id: str
    page_id: str
    post_id: str | None
    published: bool
    temporary: bool
    caption: str | None
    created_time: float
    attached: bool = False  # consumed by a multi-photo post


@dataclass
class Video:
    id: str
    page_id: str
    title: str | None
    description: str | None
    created_time: float
    ready_at: float
    post_id: str | None
    published: bool
    error: str | None = None

    def status(self, now: float) -> dict[str, object]:
        if self.error is not None:
            return {"video_status": "error", "processing_progress": 0}
        if now < self.ready_at:
            span = max(self.ready_at - self.created_time, 1e-9)
            progress = int(100 * (now - self.created_time) / span)
            return {"video_status": "processing", "processing_progress": max(0, progress)}
        return {"video_status": "ready", "processing_progress": 100}


@dataclass
class FacebookStore:
    posts: dict[str, PagePost] = field(default_factory=dict)
    photos: dict[str, Photo] = field(default_factory=dict)
    videos: dict[str, Video] = field(default_factory=dict)
