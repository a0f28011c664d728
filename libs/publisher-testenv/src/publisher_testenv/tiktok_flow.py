"""publisher-tiktok's flow on the sandbox in-process, for its unit tests: a media source reading
from it, requests, and a driver that runs the flow through its waits like the runtime would."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from herald.content import Media, MediaKind, PostContent, TikTokOptions, TikTokPrivacy
from herald.errors import Transient
from herald.events import PostRequested
from herald.runtime.ports import Checkpoint, Credentials, Outcome, Published, Wait
from herald.runtime.progress import Report
from herald.topics import Platform
from platform_sandbox.testing import SandboxHarness
from publisher_tiktok.adapters.api import HttpTikTokApi
from publisher_tiktok.adapters.limiter import SlidingWindowLimiter
from publisher_tiktok.handlers import TikTokPublisher
from publisher_tiktok.ports import PublishStatus
from publisher_tiktok.settings import ChunkRules, TikTokSettings

API_BASE = "http://127.0.0.1:8120/open.tiktokapis.com"
# Chunk rules scaled down a thousandfold so unit tests move kilobytes, not megabytes.
SMALL_SANDBOX = {"chunk_min_bytes": 1000, "chunk_max_bytes": 4000, "final_chunk_max_bytes": 8000}
SMALL_RULES = ChunkRules(
    chunk_size_bytes=2000, chunk_min_bytes=1000, chunk_max_bytes=4000, final_chunk_max_bytes=8000
)


@dataclass
class HarnessStream:
    response: httpx.Response
    offset: int
    size: int | None
    content_type: str | None
    breaks_after: int | None = None

    async def iter_bytes(self, chunk_size: int = 65536) -> AsyncIterator[bytes]:
        skip, sent = self.offset, 0
        async for received in self.response.aiter_bytes(chunk_size):
            cut = min(skip, len(received))
            skip -= cut
            piece = received[cut:]
            if self.breaks_after is not None and sent + len(piece) > self.breaks_after:
                yield piece[: self.breaks_after - sent]
                raise Transient("the download broke", code="media_unreachable")
            sent += len(piece)
            if piece:
                yield piece


@dataclass
class HarnessMedia:
    """A `MediaSource` over the in-process sandbox; each `fail_after` entry makes one download
    break after that many bytes, as a dropped connection would."""

    client: httpx.AsyncClient
    fail_after: list[int] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)

    @asynccontextmanager
    async def open(
        self, url: str, *, max_bytes: int | None = None, offset: int = 0
    ) -> AsyncIterator[HarnessStream]:
        self.opened.append(offset)
        async with self.client.stream("GET", url) as response:
            length = response.headers.get("content-length")
            breaks = self.fail_after.pop(0) if self.fail_after else None
            size = int(length) if length else None
            yield HarnessStream(response, offset, size, "video/mp4", breaks)


@dataclass
class LearnedNothing:
    statuses: dict[str, PublishStatus] = field(default_factory=dict)

    async def learned(self, publish_id: str) -> PublishStatus | None:
        return self.statuses.get(publish_id)


@dataclass
class SavedCheckpoint:
    """A checkpoint that survives between runs, like the ledger's."""

    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    saves: list[str] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)  # every one, unbounded (ADR 0018)

    def open(self) -> Checkpoint:
        async def save(step: str, data: dict[str, Any]) -> None:
            self.step, self.data = step, dict(data)
            self.saves.append(step)

        async def report(report: Report) -> None:
            self.reports.append(report)

        return Checkpoint(self.step, self.data, save, reporter=report)


def tiktok_settings(**overrides: Any) -> TikTokSettings:
    values: dict[str, Any] = {
        "base_url": API_BASE,
        "chunks": SMALL_RULES,
        "status_poll_s": 2.0,
        "photo_url_schemes": ["https", "http"],
    }
    return TikTokSettings.model_validate(values | overrides)


def platform_on(
    h: SandboxHarness, media: HarnessMedia | None = None, **overrides: Any
) -> TikTokPublisher:
    settings = tiktok_settings(**overrides)
    return TikTokPublisher(
        HttpTikTokApi(h.client, settings),
        media or HarnessMedia(h.client),
        SlidingWindowLimiter(settings.limits),
        LearnedNothing(),
        settings,
        clock=h.sandbox.clock.now,
    )


def video_request(
    url: str,
    *,
    target: str = "t1",
    privacy: TikTokPrivacy = TikTokPrivacy.PUBLIC_TO_EVERYONE,
    duration_s: float | None = None,
    **options: Any,
) -> PostRequested:
    media = [
        Media.model_validate(
            {
                "kind": MediaKind.VIDEO,
                "url": url,
                "mime_type": "video/mp4",
                "duration_s": duration_s,
            }
        )
    ]
    return _request(target, media, TikTokOptions(privacy_level=privacy, **options))


def photo_request(urls: list[str], *, target: str = "p1", **options: Any) -> PostRequested:
    media = [
        Media.model_validate({"kind": MediaKind.IMAGE, "url": u, "mime_type": "image/jpeg"})
        for u in urls
    ]
    options.setdefault("privacy_level", TikTokPrivacy.PUBLIC_TO_EVERYONE)
    return _request(target, media, TikTokOptions(title="Three loaves", **options))


def _request(target: str, media: list[Media], options: TikTokOptions) -> PostRequested:
    now = datetime.now(UTC)
    return PostRequested(
        post_id=f"post-{target}",
        target_id=target,
        business_id="b1",
        integration_id="i-tiktok",
        platform=Platform.TIKTOK,
        content=PostContent(text=f"Fresh bread herald-marker:{target}", media=media),
        options=options,
        due_at=now,
        requested_at=now,
    )


async def credentials(h: SandboxHarness, **account: str) -> Credentials:
    token = await h.token("tt_access", h.demo.tiktok_open_id)
    return Credentials(token["access_token"], h.demo.tiktok_open_id, dict(account))


async def run_to_end(
    h: SandboxHarness,
    platform: TikTokPublisher,
    request: PostRequested,
    creds: Credentials,
    saved: SavedCheckpoint | None = None,
    *,
    max_waits: int = 10,
) -> tuple[Outcome, SavedCheckpoint, int]:
    """Publish, and after each `Wait` let the sandbox's time pass and come back (the runtime's
    delay tiers, without waiting); returns the outcome, the checkpoint and the waits."""
    saved = saved or SavedCheckpoint()
    for waits in range(max_waits):
        outcome = await platform.publish(request, creds, saved.open())
        if isinstance(outcome, Published):
            return outcome, saved, waits
        assert isinstance(outcome, Wait)
        await h.settle()
        h.sandbox.clock.advance(outcome.delay_s)
    msg = f"still waiting after {max_waits} waits"
    raise AssertionError(msg)


async def ledger(h: SandboxHarness, **query: str) -> list[dict[str, Any]]:
    response = await h.client.get("/_sandbox/ledger", params={"platform": "tiktok", **query})
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


async def fault(h: SandboxHarness, **rule: Any) -> None:
    response = await h.client.post("/_sandbox/faults", json={"platform": "tiktok", **rule})
    assert response.status_code == 201, response.text
