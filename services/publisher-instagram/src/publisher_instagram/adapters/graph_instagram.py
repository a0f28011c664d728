"""`InstagramApi` on Graph (platform-apis.md §2.2, §2.3), for either login: every call
goes through `GraphClient`, which classifies failures; this module shapes requests and reads
answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from herald.errors import Permanent, Transient
from herald.graph import GraphClient
from herald.graph.client import Host
from herald.graph.errors import RETRY
from publisher_instagram.ports import ContainerState, IgMedia, Quota

_MEDIA_FIELDS = "id,caption,media_product_type,timestamp,permalink"
# Graph's answer for an id it cannot show: the container is gone (expired and purged).
_NO_SUCH_OBJECT = ("100", "33")


class GraphInstagram:
    """`host` is `graph` for accounts connected through Facebook Login (graph.facebook.com with
    the Page's token) and `instagram` for Business Login for Instagram (graph.instagram.com with
    the Instagram user's token): the same calls, another host (platform-apis.md §2.1)."""

    def __init__(self, graph: GraphClient, *, host: Host = "graph") -> None:
        self._graph = graph
        self._host: Host = host

    async def _get(self, token: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return await self._graph.get(token, path, host=self._host, **kwargs)

    async def _post(self, token: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return await self._graph.post(token, path, host=self._host, **kwargs)

    async def create_container(self, token: str, ig_user_id: str, params: Mapping[str, Any]) -> str:
        body = await self._post(token, "{ig}/media", ids={"ig": ig_user_id}, data=params)
        return _text(body, "id")

    async def container(self, token: str, container_id: str) -> ContainerState | None:
        params = {"fields": "status_code,status"}
        try:
            body = await self._get(
                token, "{container}", ids={"container": container_id}, params=params
            )
        except Permanent as error:
            if (error.code, error.subcode) == _NO_SUCH_OBJECT:
                return None
            raise
        return ContainerState(_text(body, "status_code"), _optional(body, "status"))

    async def publish(self, token: str, ig_user_id: str, container_id: str) -> str:
        data = {"creation_id": container_id}
        body = await self._post(token, "{ig}/media_publish", ids={"ig": ig_user_id}, data=data)
        return _text(body, "id")

    async def quota(self, token: str, ig_user_id: str, *, since: int | None = None) -> Quota:
        params: dict[str, Any] = {"fields": "quota_usage,config"}
        if since is not None:
            params["since"] = since
        body = await self._get(
            token, "{ig}/content_publishing_limit", ids={"ig": ig_user_id}, params=params
        )
        data = body.get("data")
        entry = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
        config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        assert isinstance(config, dict)
        return Quota(
            usage=int(entry.get("quota_usage") or 0),
            # Read the live limit; 50 per 24 h is the documented default (§2.2).
            total=int(config.get("quota_total") or 50),
            window_s=int(config.get("quota_duration") or 86_400),
        )

    async def media(self, token: str, media_id: str) -> IgMedia:
        params = {"fields": _MEDIA_FIELDS}
        body = await self._get(token, "{media}", ids={"media": media_id}, params=params)
        return _media(body)

    async def recent_media(self, token: str, ig_user_id: str, *, limit: int) -> list[IgMedia]:
        params = {"fields": _MEDIA_FIELDS, "limit": limit}
        body = await self._get(token, "{ig}/media", ids={"ig": ig_user_id}, params=params)
        data = body.get("data")
        items = data if isinstance(data, list) else []
        return [_media(item) for item in items if isinstance(item, dict) and "id" in item]

    async def insights(self, token: str, media_id: str, metrics: Sequence[str]) -> dict[str, Any]:
        params = {"metric": ",".join(metrics)}
        body = await self._get(token, "{media}/insights", ids={"media": media_id}, params=params)
        found: dict[str, Any] = {}
        data = body.get("data")
        for item in data if isinstance(data, list) else []:
            values = item.get("values") if isinstance(item, dict) else None
            if isinstance(values, list) and values and isinstance(values[-1], dict):
                found[str(item.get("name"))] = values[-1].get("value")
        return found


def _media(body: Mapping[str, Any]) -> IgMedia:
    return IgMedia(
        id=str(body["id"]),
        caption=_optional(body, "caption"),
        product_type=_optional(body, "media_product_type"),
        timestamp=_time(body.get("timestamp")),
        permalink=_optional(body, "permalink"),
    )


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _optional(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    return None if value is None else str(value)


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if value is None:
        raise Transient(f"Graph answered without {name!r}", remediation=RETRY, evidence=dict(body))
    return str(value)
