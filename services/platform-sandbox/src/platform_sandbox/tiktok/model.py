"""TikTok publishing state: publish tasks, upload sessions and the posts they become.

A publish task's `status` is computed from the clock like Instagram's containers:
`PROCESSING_UPLOAD` (FILE_UPLOAD, until every chunk is in and processing time passes) or
`PROCESSING_DOWNLOAD` (PULL_FROM_URL, until the sandbox fetched the media), then
`PUBLISH_COMPLETE` (direct post) or `SEND_TO_USER_INBOX` (upload to inbox), or `FAILED` with a
`fail_reason`. A public post's id appears only after moderation time, as on TikTok.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from platform_sandbox.ratelimit import SlidingLog


@dataclass
class UploadSession:
    upload_id: str
    upload_token: str
    publish_id: str
    video_size: int
    chunk_size: int
    total_chunks: int
    expires_at: float
    received: int = 0
    chunks: int = 0
    head: bytes = b""


@dataclass
class Publish:
    publish_id: str
    open_id: str
    access_token: str
    media: str  # VIDEO or PHOTO
    mode: str  # DIRECT_POST or MEDIA_UPLOAD (inbox)
    source: str  # FILE_UPLOAD or PULL_FROM_URL
    post_info: dict[str, Any]
    created_at: float
    urls: list[str] = field(default_factory=list)
    expected_bytes: int = 0
    transferred_bytes: int = 0
    transfer_done_at: float | None = None  # every byte arrived; processing starts
    fail_reason: str | None = None
    post_id: str | None = None
    cancelled: bool = False

    @property
    def public(self) -> bool:
        return self.post_info.get("privacy_level") == "PUBLIC_TO_EVERYONE"


@dataclass
class TikTokPost:
    id: str
    open_id: str
    title: str
    description: str
    create_time: float
    is_photo: bool
    duration: int = 15
    width: int = 1080
    height: int = 1920


@dataclass
class TikTokStore:
    publishes: dict[str, Publish] = field(default_factory=dict)
    uploads: dict[str, UploadSession] = field(default_factory=dict)
    posts: dict[str, TikTokPost] = field(default_factory=dict)
    calls: SlidingLog = field(default_factory=SlidingLog)
    posted: SlidingLog = field(default_factory=SlidingLog)
    inbox: SlidingLog = field(default_factory=SlidingLog)
