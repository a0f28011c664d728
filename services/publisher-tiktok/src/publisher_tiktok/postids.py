"""The public post id that arrives after a post is complete (ADR 0005).

TikTok gives a public post its id only after moderation (usually under a minute, sometimes
hours), so a post is reported published as soon as TikTok says `PUBLISH_COMPLETE`, and this job
finds the id later: for every published public TikTok post in the ledger still without one (for
`post_id_polls` times `post_id_poll_s` after publishing) it takes the id from a
`post.publish.publicly_available` webhook when one came, else asks `status/fetch`. The first
writer records it in the ledger and emits `post.published` again with it (the agreed update);
insights collection then finds the post by that id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

from herald.emitter import EventEmitter
from herald.errors import PlatformError
from herald.events import PostPublished
from herald.runtime.ports import TokenSource
from herald.topics import Platform, TopicNames
from publisher_tiktok.adapters.store import AwaitingId, MongoOutcomes
from publisher_tiktok.domain import permalink
from publisher_tiktok.ports import Limiter, TikTokApi
from publisher_tiktok.settings import TikTokSettings

log = structlog.get_logger(__name__)


class PostIdWatcher:
    def __init__(
        self,
        *,
        store: MongoOutcomes,
        api: TikTokApi,
        limiter: Limiter,
        tokens: TokenSource,
        emitter: EventEmitter,
        names: TopicNames,
        settings: TikTokSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store, self._api, self._limiter = store, api, limiter
        self._tokens, self._emitter, self._names = tokens, emitter, names
        self._settings, self._clock = settings, clock

    async def run_once(self) -> list[PostPublished]:
        """Look once for every post awaiting its id; returns the updates emitted."""
        window = self._settings.post_id_poll_s * self._settings.post_id_polls
        since = self._clock() - timedelta(seconds=window)
        updates = []
        for item in await self._store.awaiting_ids(since, limit=100):
            post_id = await self._find(item)
            if post_id is None:
                continue
            update = await self._record(item, post_id)
            if update is not None:
                updates.append(update)
        return updates

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # a database blip must not end the job; the next run retries
                log.exception("tiktok.post_ids_failed")
            await asyncio.sleep(self._settings.post_id_poll_s)

    async def _find(self, item: AwaitingId) -> str | None:
        learned = await self._store.learned(item.publish_id)
        if learned is not None and learned.post_ids:
            return learned.post_ids[0]
        doc = item.document
        try:
            self._limiter.take(doc["integration_id"], "status")
            credentials = await self._tokens.get(doc["integration_id"], doc["business_id"])
            status = await self._api.status(credentials.access_token, item.publish_id)
        except PlatformError as error:
            log.info("tiktok.post_id_unavailable", code=error.code, target_id=item.target_id)
            return None
        return status.post_ids[0] if status.post_ids else None

    async def _record(self, item: AwaitingId, post_id: str) -> PostPublished | None:
        doc = item.document
        checkpoint = doc.get("checkpoint") or {}
        link = permalink(
            str(checkpoint.get("username") or ""), post_id, photo=bool(checkpoint.get("photo"))
        )
        if not await self._store.record_post_id(item.target_id, post_id, link):
            return None
        result = doc.get("result") or {}
        published_at = result.get("published_at") or self._clock()
        event = PostPublished(
            post_id=doc["post_id"],
            target_id=item.target_id,
            business_id=doc["business_id"],
            integration_id=doc["integration_id"],
            platform=Platform.TIKTOK,
            attempt=int(result.get("attempt") or 1),
            platform_post_id=post_id,
            permalink=link,
            published_at=published_at if published_at.tzinfo else published_at.replace(tzinfo=UTC),
        )
        await self._emitter.emit(event, topic=self._names.post_results, key=event.post_id)
        log.info("post.published", update="post_id", target_id=item.target_id)
        return event
