"""What the Instagram flow needs from outside: content publishing on Graph, as a port
(adapter: `adapters.graph_instagram.GraphInstagram`; tests: a hand-written fake account)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class ContainerState:
    status_code: str  # IN_PROGRESS, FINISHED, PUBLISHED, ERROR, EXPIRED
    status: str | None = None  # Graph's text, which names the error subcode on ERROR


@dataclass(frozen=True)
class Quota:
    usage: int
    total: int
    window_s: int


@dataclass(frozen=True)
class IgMedia:
    id: str
    caption: str | None
    product_type: str | None  # FEED, REELS, STORY
    timestamp: datetime | None
    permalink: str | None


class InstagramApi(Protocol):
    async def create_container(self, token: str, ig_user_id: str, params: Mapping[str, Any]) -> str:
        """`POST /{ig-user}/media`: a container id."""
        ...

    async def container(self, token: str, container_id: str) -> ContainerState | None:
        """`GET /{container}?fields=status_code,status`; None if Graph no longer knows it."""
        ...

    async def publish(self, token: str, ig_user_id: str, container_id: str) -> str:
        """`POST /{ig-user}/media_publish`: the published media's id."""
        ...

    async def quota(self, token: str, ig_user_id: str, *, since: int | None = None) -> Quota:
        """`GET /{ig-user}/content_publishing_limit` (usage since `since`, unix seconds)."""
        ...

    async def media(self, token: str, media_id: str) -> IgMedia: ...

    async def recent_media(self, token: str, ig_user_id: str, *, limit: int) -> list[IgMedia]: ...

    async def insights(self, token: str, media_id: str, metrics: Sequence[str]) -> dict[str, Any]:
        """`GET /{media}/insights?metric=…`: metric name → value."""
        ...
