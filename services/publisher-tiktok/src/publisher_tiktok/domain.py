"""Pure TikTok rules: chunk plans, what a creator allows, what a post sends, what a failure
means (platform-apis.md §4.2, §5.5). No I/O here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from herald.content import TikTokOptions
from herald.errors import NeedsReauth, Permanent, PlatformError, Throttled, Transient
from publisher_tiktok.settings import ChunkRules


@dataclass(frozen=True)
class ChunkPlan:
    """`total` chunks of `chunk_size`, the last absorbing the remainder (TikTok's rule)."""

    video_size: int
    chunk_size: int
    total: int

    def span(self, index: int) -> tuple[int, int]:
        """First and last byte (inclusive) of chunk `index`."""
        first = index * self.chunk_size
        last = self.video_size - 1 if index == self.total - 1 else first + self.chunk_size - 1
        return first, last

    def index_at(self, offset: int) -> int:
        return min(offset // self.chunk_size, self.total - 1)

    def source_info(self) -> dict[str, Any]:
        return {
            "source": "FILE_UPLOAD",
            "video_size": self.video_size,
            "chunk_size": self.chunk_size,
            "total_chunk_count": self.total,
        }


def plan_chunks(size: int, rules: ChunkRules) -> ChunkPlan:
    """Files smaller than the preferred chunk go whole (those under 5 MB must); larger ones in
    chunks of the preferred size, grown only when 1000 chunks would not hold the file."""
    if size <= 0:
        raise Permanent("the video is empty", code="video_empty", remediation="Use a real video.")
    if size > rules.video_max_bytes:
        raise Permanent(
            f"the video is {size:,} bytes; TikTok takes at most {rules.video_max_bytes:,}",
            code="video_too_large",
            remediation="Compress or shorten the video.",
        )
    if size < rules.chunk_size_bytes:
        return ChunkPlan(size, size, 1)
    chunk = max(rules.chunk_size_bytes, -(-size // rules.max_chunks))
    return ChunkPlan(size, chunk, size // chunk)


@dataclass(frozen=True)
class CreatorInfo:
    username: str
    privacy_level_options: tuple[str, ...]
    comment_disabled: bool
    duet_disabled: bool
    stitch_disabled: bool
    max_video_post_duration_sec: int | None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> CreatorInfo:
        maximum = data.get("max_video_post_duration_sec")
        return cls(
            username=str(data.get("creator_username") or ""),
            privacy_level_options=tuple(str(o) for o in data.get("privacy_level_options") or []),
            comment_disabled=bool(data.get("comment_disabled")),
            duet_disabled=bool(data.get("duet_disabled")),
            stitch_disabled=bool(data.get("stitch_disabled")),
            max_video_post_duration_sec=int(maximum) if isinstance(maximum, int) else None,
        )


def check_creator(options: TikTokOptions, creator: CreatorInfo, duration_s: float | None) -> None:
    """`Permanent` when the post asks for what this creator cannot do right now."""
    wanted = options.privacy_level.value
    if wanted not in creator.privacy_level_options:
        allowed = ", ".join(creator.privacy_level_options) or "none"
        raise Permanent(
            f"TikTok lets @{creator.username} post only as {allowed}; the post asks for {wanted}",
            code="privacy_level_option_mismatch",
            remediation=f"Choose one of {allowed} as the post's privacy level.",
        )
    limit = creator.max_video_post_duration_sec
    if duration_s is not None and limit is not None and duration_s > limit:
        raise Permanent(
            f"the video is {duration_s:g} s long; @{creator.username} may post at most {limit} s",
            code="duration_check_failed",
            remediation=f"Shorten the video to {limit} seconds or less.",
        )


def video_post_info(
    options: TikTokOptions, caption: str | None, creator: CreatorInfo
) -> dict[str, Any]:
    """A Direct Post's `post_info`; switches the creator turned off stay off."""
    info: dict[str, Any] = {
        "title": caption or "",
        "privacy_level": options.privacy_level.value,
        "disable_duet": options.disable_duet or creator.duet_disabled,
        "disable_stitch": options.disable_stitch or creator.stitch_disabled,
        "disable_comment": options.disable_comment or creator.comment_disabled,
        "brand_content_toggle": options.brand_content_toggle,
        "brand_organic_toggle": options.brand_organic_toggle,
        "is_aigc": options.is_aigc,
    }
    if options.video_cover_timestamp_ms is not None:
        info["video_cover_timestamp_ms"] = options.video_cover_timestamp_ms
    return info


def photo_post_info(
    options: TikTokOptions, description: str | None, creator: CreatorInfo | None
) -> dict[str, Any]:
    info: dict[str, Any] = {
        "title": options.title or "",
        "description": description or "",
        "disable_comment": options.disable_comment or bool(creator and creator.comment_disabled),
        "auto_add_music": options.auto_add_music,
        "brand_content_toggle": options.brand_content_toggle,
        "brand_organic_toggle": options.brand_organic_toggle,
    }
    if creator is not None:
        info["privacy_level"] = options.privacy_level.value
    return info


def under_prefix(url: str, prefixes: list[str]) -> bool:
    """Whether `url` lies under one of `prefixes`, matched at a path boundary (a prefix
    `https://cdn.example.com` does not cover `https://cdn.example.com.evil.net/`)."""
    for prefix in prefixes:
        if not prefix or not url.startswith(prefix):
            continue
        if prefix.endswith("/") or len(url) == len(prefix) or url[len(prefix)] in "/?":
            return True
    return False


_CONTENT_FIX = "Fix the media (format, duration, frame rate, picture size) and post it again."
_PERMANENT_REASONS = {
    "file_format_check_failed": "TikTok could not read the file's format",
    "duration_check_failed": "the video is too long or too short for TikTok",
    "frame_rate_check_failed": "the video's frame rate is outside 23 to 60 fps",
    "picture_size_check_failed": "the picture size is outside what TikTok accepts",
    "publish_cancelled": "the publish was cancelled",
    "spam_risk_user_banned_from_posting": "TikTok has banned this account from posting",
    "spam_risk_text": "TikTok flagged the post's text as spam",
    "spam_risk": "TikTok flagged the post as spam",
}


def failed_publish(reason: str, *, daily_cap_s: float) -> PlatformError:
    """What a FAILED status's `fail_reason` means for Herald."""
    if reason in ("internal", "video_pull_failed", "photo_pull_failed"):
        return Transient(
            f"TikTok could not finish the publish ({reason}); it is tried again",
            code=reason,
        )
    if reason == "auth_removed":
        return NeedsReauth(
            "the creator removed Herald's access on TikTok",
            code=reason,
            remediation="Reconnect the TikTok account in Herald.",
        )
    if reason == "spam_risk_too_many_posts":
        return daily_cap(daily_cap_s, code=reason)
    message = _PERMANENT_REASONS.get(reason, f"TikTok refused the post ({reason})")
    return Permanent(message, code=reason, remediation=_CONTENT_FIX)


def daily_cap(retry_s: float, *, code: str) -> Throttled:
    hours = retry_s / 3600
    return Throttled(
        "the TikTok account reached its daily limit of posts made through apps (about 15 a "
        f"day, shared by every app); Herald posts it automatically in {hours:g} h",
        code=code,
        retry_after_s=retry_s,
        remediation="Nothing to do; or publish it from the TikTok app today.",
    )


def permalink(username: str, post_id: str, *, photo: bool) -> str | None:
    if not username:
        return None
    kind = "photo" if photo else "video"
    return f"https://www.tiktok.com/@{username}/{kind}/{post_id}"
