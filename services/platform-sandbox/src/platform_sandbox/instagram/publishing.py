"""`POST /{ig-user-id}/media_publish` and `GET /{ig-user-id}/content_publishing_limit`.

Publishing needs a `FINISHED` container (else 9007/2207027 "Media ID is not available"), counts
against a rolling 24 h quota (default 50, else 9/2207042), and turns the container `PUBLISHED`.
A container that is expired, unknown or already used is 24/2207008 ("does not exist or has
been expired"). Carousels count once. The ledger records every publish.
"""

from __future__ import annotations

from typing import Any

from platform_sandbox.accounts import NodeKind
from platform_sandbox.fields import select
from platform_sandbox.graph_errors import GraphError, invalid_param
from platform_sandbox.graph_router import GraphCall
from platform_sandbox.instagram.model import Container, IgMedia, StatusCode, status_of

_PRODUCT = {"REELS": "REELS", "STORIES": "STORY"}


def _gone(creation_id: str) -> GraphError:
    return GraphError(
        24,
        f"The media builder with creation id = {creation_id} does not exist or has been expired.",
        subcode=2207008,
    )


def container_status(call: GraphCall, container: Container) -> StatusCode:
    containers = call.sandbox.state.instagram.containers
    children = [containers[c] for c in container.children if c in containers]
    return status_of(container, children, call.now)


def _check_quota(call: GraphCall, ig_user_id: str) -> None:
    limits = call.sandbox.settings.instagram
    used = call.sandbox.state.instagram.publishes.count(
        ig_user_id, now=call.now, window_s=limits.publish_quota_window_s
    )
    if used >= limits.publish_quota_total:
        raise GraphError(9, "You reached maximum number of posts that is allowed", subcode=2207042)


async def publish(call: GraphCall) -> dict[str, Any]:
    ig_user_id = call.need_node().id
    creation_id = call.req.params.require("creation_id")
    container = call.sandbox.state.instagram.containers.get(creation_id)
    if container is None or container.ig_user_id != ig_user_id:
        raise _gone(creation_id)
    if container.is_carousel_item:
        raise invalid_param("A carousel item cannot be published on its own")
    status = container_status(call, container)
    if status in (StatusCode.EXPIRED, StatusCode.PUBLISHED):
        raise _gone(creation_id)
    if status in (StatusCode.IN_PROGRESS, StatusCode.ERROR):
        raise GraphError(9007, "Media ID is not available", subcode=2207027)
    _check_quota(call, ig_user_id)
    media = _make_media(call, container)
    call.sandbox.state.instagram.publishes.record(ig_user_id, now=call.now)
    _record(call, media)
    return {"id": media.id}


def _make_media(call: GraphCall, container: Container) -> IgMedia:
    state = call.sandbox.state
    media_type = (
        "CAROUSEL_ALBUM" if container.children else "VIDEO" if container.is_video else "IMAGE"
    )
    media = _new_media(call, container, media_type, _PRODUCT.get(container.media_type, "FEED"))
    for child_id in container.children:
        child = state.instagram.containers[child_id]
        child_media = _new_media(call, child, "VIDEO" if child.is_video else "IMAGE", "FEED")
        child_media.parent_id = media.id
        media.children.append(child_media.id)
    container.published_media_id = media.id
    return media


def _new_media(call: GraphCall, container: Container, media_type: str, product: str) -> IgMedia:
    state = call.sandbox.state
    media = IgMedia(
        id=state.ids.graph("ig_media"),
        ig_user_id=container.ig_user_id,
        media_type=media_type,
        media_product_type=product,
        caption=container.caption,
        timestamp=call.now,
        shortcode=state.ids.shortcode(),
        children=[],
        container_id=container.id,
        media_url=container.media_url,
    )
    state.instagram.media[media.id] = media
    state.accounts.nodes.add(NodeKind.IG_MEDIA, media.id, container.ig_user_id)
    return media


def _record(call: GraphCall, media: IgMedia) -> None:
    ledger = call.sandbox.ledger
    ledger.record(
        platform="instagram",
        kind="media_published",
        account=media.ig_user_id,
        object_id=media.id,
        at=call.now,
        marker=ledger.marker(call.req.headers, [media.caption]),
        text=media.caption,
        request={
            "method": call.req.method,
            "path": call.req.path,
            "params": call.req.params.public(),
            "container": media.container_id,
            "media_product_type": media.media_product_type,
        },
    )


async def publishing_limit(call: GraphCall) -> dict[str, Any]:
    ig_user_id = call.need_node().id
    limits = call.sandbox.settings.instagram
    window = float(limits.publish_quota_window_s)
    since = call.req.params.integer("since")
    if since is not None:
        window = min(window, max(0.0, call.now - since))
    used = call.sandbox.state.instagram.publishes.count(ig_user_id, now=call.now, window_s=window)
    available = {
        "quota_usage": used,
        "config": {
            "quota_total": limits.publish_quota_total,
            "quota_duration": int(limits.publish_quota_window_s),
        },
    }
    entry = select(
        available, call.req.params.text("fields"), ["quota_usage"], "ContentPublishingLimitResponse"
    )
    entry.pop("id", None)
    return {"data": [entry]}
