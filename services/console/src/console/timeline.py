"""A post's timeline, without the web framework: each entry of the scheduler's history
(`GET /v1/posts/{id}/history`: submission, each dispatch, every result a publisher reported,
retries, moves, cancels) in a person's words, with the account it is about. A retry shows as a
new round: its request, its own dispatch and its own outcome after the failure it answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from console.client import HistoryItem, Post
from console.views import local_time, platform_name


@dataclass(frozen=True)
class Line:
    at: str  # in the business's zone, to the second: a retry follows its failure within seconds
    account: str  # "Instagram" (the target's platform), or "" for the post as a whole
    what: str
    error: str | None = None
    remediation: str | None = None
    permalink: str | None = None


def lines(post: Post, entries: Sequence[HistoryItem], zone: ZoneInfo) -> list[Line]:
    """Every entry, oldest first, said plainly."""
    platforms = {t.target_id: platform_name(t.platform) for t in post.targets}
    return [_line(e, platforms.get(e.target_id or "", ""), zone) for e in entries]


def _line(entry: HistoryItem, account: str, zone: ZoneInfo) -> Line:
    detail = entry.detail
    error = detail.get("error") if isinstance(detail.get("error"), Mapping) else None
    said = _words(entry.kind, detail, zone)
    at = entry.at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")
    if error is None:
        return Line(at, account, said, permalink=_text(detail.get("permalink")))
    code = f"Error {error['code']}: " if error.get("code") else ""
    message = f"{code}{error.get('message', '')}"
    return Line(at, account, said, message, _text(error.get("remediation")))


def _words(kind: str, detail: Mapping[str, Any], zone: ZoneInfo) -> str:
    rnd = f" (round {detail['epoch']})" if detail.get("epoch") else ""

    def when(key: str) -> str:
        return _when(detail.get(key), zone)

    said = {
        "post.scheduled": f"Scheduled for {when('due_at')}",
        "post.draft_saved": "Saved as a draft",
        "post.rescheduled": f"Moved from {when('from')} to {when('to')}{rnd}",
        "post.dispatched": f"Sent to the publisher{rnd}",
        "post.expanded": f"Sent to the publisher in batches{rnd}",
        "post.retry_requested": f"Retry asked for{rnd}",
        "post.retry_scheduled": f"Attempt failed; next attempt {when('next_attempt_at')}",
        "post.failed": "Failed" if detail.get("final", True) else "Attempt failed",
        "post.published": "Published",
        "post.cancelled": "Cancelled",
        "post.rejected": "Refused by the publisher's checks",
    }
    return said.get(kind) or kind.removeprefix("post.").replace("_", " ").capitalize()


def _when(value: object, zone: ZoneInfo) -> str:
    if not isinstance(value, str):
        return "\u2014"
    try:
        return local_time(datetime.fromisoformat(value), zone)
    except ValueError:
        return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
