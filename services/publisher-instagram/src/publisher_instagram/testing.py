"""For tests: a hand-written fake Instagram account behind the `InstagramApi` port. Containers
follow Graph's `status_code` machine (set `processing` to keep new video containers
`IN_PROGRESS`), publishing counts against a rolling quota, and any call can fail on request,
before doing its work or after it (the ambiguous case)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from herald.errors import Throttled
from publisher_instagram.ports import ContainerState, IgMedia, Quota


@dataclass
class FakeContainer:
    params: dict[str, Any]
    status: str
    media_id: str | None = None


@dataclass
class FakeAccount:
    ig_user_id: str = "ig-1"
    containers: dict[str, FakeContainer] = field(default_factory=dict)
    published: list[IgMedia] = field(default_factory=list)  # newest first, as Graph lists
    publishes: list[float] = field(default_factory=list)
    quota_total: int = 50
    quota_window_s: int = 86_400
    processing: bool = False
    calls: list[str] = field(default_factory=list)
    fail_before: dict[str, list[Exception]] = field(default_factory=dict)
    fail_after: dict[str, list[Exception]] = field(default_factory=dict)
    clock: Any = field(default=lambda: datetime.now(UTC).timestamp())
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _enter(self, op: str) -> None:
        self.calls.append(op)
        pending = self.fail_before.get(op)
        if pending:
            raise pending.pop(0)

    def _leave(self, op: str) -> None:
        pending = self.fail_after.get(op)
        if pending:
            raise pending.pop(0)

    def count(self, op: str) -> int:
        return self.calls.count(op)

    def finish_all(self) -> None:
        for container in self.containers.values():
            if container.status == "IN_PROGRESS":
                container.status = "FINISHED"

    async def create_container(self, token: str, ig_user_id: str, params: Mapping[str, Any]) -> str:
        self._enter("create_container")
        container_id = f"c{next(self._ids)}"
        video = params.get("media_type") in ("REELS", "VIDEO") or "video_url" in params
        status = "IN_PROGRESS" if video and self.processing else "FINISHED"
        self.containers[container_id] = FakeContainer(dict(params), status)
        self._leave("create_container")
        return container_id

    async def container(self, token: str, container_id: str) -> ContainerState | None:
        self._enter("container")
        found = self.containers.get(container_id)
        if found is None:
            return None
        status = found.status
        children = [self.containers[c] for c in found.params.get("children", [])]
        if status == "FINISHED" and any(c.status == "IN_PROGRESS" for c in children):
            status = "IN_PROGRESS"
        text = (
            "Error: Media upload has failed with error code 2207026" if status == "ERROR" else None
        )
        return ContainerState(status, text)

    async def publish(self, token: str, ig_user_id: str, container_id: str) -> str:
        self._enter("publish")
        if self._used(self.clock() - self.quota_window_s) >= self.quota_total:
            raise Throttled("(#9) limit", code="9", subcode="2207042")
        container = self.containers[container_id]
        assert container.status == "FINISHED", f"published a {container.status} container"
        media_id = f"m{next(self._ids)}"
        container.status, container.media_id = "PUBLISHED", media_id
        product = {"REELS": "REELS", "STORIES": "STORY"}.get(
            str(container.params.get("media_type")), "FEED"
        )
        now = datetime.fromtimestamp(self.clock(), UTC)
        link = f"https://www.instagram.com/p/{media_id}/"
        self.published.insert(
            0, IgMedia(media_id, container.params.get("caption"), product, now, link)
        )
        self.publishes.append(self.clock())
        self._leave("publish")
        return media_id

    def _used(self, since: float) -> int:
        return sum(1 for t in self.publishes if t > since)

    async def quota(self, token: str, ig_user_id: str, *, since: int | None = None) -> Quota:
        self._enter("quota")
        start = self.clock() - self.quota_window_s
        if since is not None:
            start = max(start, since)
        return Quota(self._used(start), self.quota_total, self.quota_window_s)

    async def media(self, token: str, media_id: str) -> IgMedia:
        self._enter("media")
        return next(m for m in self.published if m.id == media_id)

    async def recent_media(self, token: str, ig_user_id: str, *, limit: int) -> list[IgMedia]:
        self._enter("recent_media")
        return [IgMedia(m.id, None, None, None, None) for m in self.published[:limit]]

    async def insights(self, token: str, media_id: str, metrics: Sequence[str]) -> dict[str, Any]:
        self._enter("insights")
        return dict.fromkeys(metrics, 5)
