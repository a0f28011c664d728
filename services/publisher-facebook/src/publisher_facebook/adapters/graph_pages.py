"""`PagesApi` on Graph (platform-apis.md §1.2, §1.3): every call goes through `GraphClient`,
which classifies failures; this module only shapes requests and reads answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from herald.errors import Transient
from herald.graph import GraphClient
from herald.graph.errors import RETRY
from publisher_facebook.ports import PagePost, VideoState

_POST_FIELDS = "id,message,link,created_time,permalink_url"
_VIDEO_LIST_FIELDS = "id,description,created_time,permalink_url"


class GraphPages:
    def __init__(self, graph: GraphClient) -> None:
        self._graph = graph

    async def create_post(
        self,
        token: str,
        page_id: str,
        *,
        message: str | None,
        link: str | None,
        attached: Sequence[str],
    ) -> str:
        data: dict[str, Any] = {"message": message, "link": link}
        if attached:
            data["attached_media"] = [{"media_fbid": photo_id} for photo_id in attached]
        body = await self._graph.post(token, "{page}/feed", ids={"page": page_id}, data=data)
        return _text(body, "id")

    async def upload_photo(
        self, token: str, page_id: str, *, url: str, alt_text: str | None
    ) -> str:
        data = {"url": url, "published": False, "alt_text_custom": alt_text}
        body = await self._graph.post(token, "{page}/photos", ids={"page": page_id}, data=data)
        return _text(body, "id")

    async def publish_photo(
        self, token: str, page_id: str, *, url: str, caption: str | None, alt_text: str | None
    ) -> str:
        data = {"url": url, "caption": caption, "published": True, "alt_text_custom": alt_text}
        body = await self._graph.post(token, "{page}/photos", ids={"page": page_id}, data=data)
        # The Page post the photo appears in; the photo's own id only if Graph gave no post id.
        return str(body.get("post_id") or _text(body, "id"))

    async def create_video(
        self, token: str, page_id: str, *, file_url: str, description: str | None, title: str | None
    ) -> str:
        data = {"file_url": file_url, "description": description, "title": title, "published": True}
        body = await self._graph.post(
            token, "{page}/videos", ids={"page": page_id}, data=data, host="video"
        )
        return _text(body, "id")

    async def video(self, token: str, video_id: str) -> VideoState:
        params = {"fields": "status,post_id,permalink_url"}
        body = await self._graph.get(token, "{video}", ids={"video": video_id}, params=params)
        status = body.get("status") if isinstance(body.get("status"), Mapping) else {}
        assert isinstance(status, Mapping)
        return VideoState(
            status=str(status.get("video_status") or "processing"),
            post_id=_optional(body, "post_id"),
            permalink=_optional(body, "permalink_url"),
            progress=int(status.get("processing_progress") or 0),
        )

    async def recent_posts(self, token: str, page_id: str, *, limit: int) -> list[PagePost]:
        params = {"fields": _POST_FIELDS, "limit": limit}
        body = await self._graph.get(token, "{page}/feed", ids={"page": page_id}, params=params)
        return [_post(item, "message") for item in _data(body)]

    async def recent_videos(self, token: str, page_id: str, *, limit: int) -> list[PagePost]:
        params = {"fields": _VIDEO_LIST_FIELDS, "limit": limit}
        body = await self._graph.get(token, "{page}/videos", ids={"page": page_id}, params=params)
        return [_post(item, "description") for item in _data(body)]

    async def insights(self, token: str, post_id: str, metrics: Sequence[str]) -> dict[str, Any]:
        params = {"metric": ",".join(metrics)}
        body = await self._graph.get(token, "{post}/insights", ids={"post": post_id}, params=params)
        return read_insights(body)


def read_insights(body: Mapping[str, Any]) -> dict[str, Any]:
    """`{"data": [{"name", "values": [{"value"}], "total_value": {...}}]}` → name → value.

    Missing data is an empty `data` list, not zeros, so absent metrics stay absent.
    """
    found: dict[str, Any] = {}
    for item in _data(body):
        name = item.get("name")
        values = item.get("values")
        if not isinstance(name, str):
            continue
        if isinstance(values, list) and values and isinstance(values[-1], Mapping):
            found[name] = values[-1].get("value")
        elif isinstance(item.get("total_value"), Mapping):
            found[name] = item["total_value"].get("value")
    return found


def _post(item: Mapping[str, Any], text_field: str) -> PagePost:
    return PagePost(
        id=str(item.get("id")),
        message=_optional(item, text_field),
        link=_optional(item, "link"),
        created_at=graph_time(item.get("created_time")),
        permalink=_optional(item, "permalink_url"),
    )


def graph_time(value: Any) -> datetime | None:
    """Graph's `2026-11-26T12:00:00+0000`."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _data(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    data = body.get("data")
    return [item for item in data if isinstance(item, Mapping)] if isinstance(data, list) else []


def _optional(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    return None if value is None else str(value)


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        raise Transient(f"Graph answered without {name!r}", remediation=RETRY, evidence=dict(body))
    return str(value)
