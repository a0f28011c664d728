"""Finding the media a `PUBLISHED` container became, when the answer to `media_publish` was
lost (a crash, a timeout, a 5xx after publishing).

Graph names no media id on the container, so the account's recent media are read, newest
first, and the oldest one that matches what we published (caption, product type, published no
earlier than our container was made, less the clock skew) is ours.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from publisher_instagram import domain
from publisher_instagram.ports import IgMedia, InstagramApi


class MediaFinder:
    def __init__(self, api: InstagramApi, skew_s: float, limit: int) -> None:
        self._api = api
        self._skew = timedelta(seconds=skew_s)
        self._limit = limit

    async def find(self, token: str, ig_user_id: str, expected: dict[str, Any]) -> IgMedia | None:
        recent = await self._api.recent_media(token, ig_user_id, limit=self._limit)
        candidates = []
        oldest = expected["since"] - self._skew
        for item in recent:
            media = item if item.timestamp is not None else await self._api.media(token, item.id)
            if media.timestamp is not None and media.timestamp < oldest:
                break  # newest first: everything after this is older than our container
            candidates.append((media, self._matches(media, expected)))
        found = domain.pick_ours(candidates)
        return found if isinstance(found, IgMedia) else None

    def _matches(self, media: IgMedia, expected: dict[str, Any]) -> bool:
        return domain.is_ours(
            media.caption,
            media.product_type,
            media.timestamp,
            caption=expected["caption"],
            product=expected["product"],
            since=expected["since"],
            skew=self._skew,
        )
