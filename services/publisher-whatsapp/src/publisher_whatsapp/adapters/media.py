"""`MediaSource` on the safe media fetcher (ADR 0002): files WhatsApp cannot fetch are read
here, within WhatsApp's size limit for their kind, then uploaded."""

from __future__ import annotations

from herald.media import MediaFetcher
from publisher_whatsapp.ports import FetchedMedia


class FetcherMedia:
    def __init__(self, fetcher: MediaFetcher) -> None:
        self._fetcher = fetcher

    async def read(self, url: str, *, max_bytes: int) -> FetchedMedia:
        async with self._fetcher.open(url, max_bytes=max_bytes or None) as media:
            chunks = [chunk async for chunk in media.iter_bytes()]
            return FetchedMedia(b"".join(chunks), media.content_type)
