"""`POST /{ig-user-id}/media`: create a container (image, reel, story, carousel item, carousel).

Follows platform-apis.md §2.2 and §2.4: images are fetched at request time (Meta cURLs them),
so a bad `image_url` fails the call (9004/2207052), a wrong format, size or aspect ratio fails it
with its own code; videos are fetched in the background and a failure turns the container to
`ERROR`. Captions are checked for length, hashtags and mentions; carousels take 2 to 10 children.
"""

from __future__ import annotations

import re
from typing import Any

from platform_sandbox.accounts import NodeKind
from platform_sandbox.graph_errors import GraphError, invalid_param, missing_param
from platform_sandbox.graph_router import GraphCall
from platform_sandbox.instagram.model import Container, StatusCode, own_status
from platform_sandbox.media.fetch import FetchError, is_loopback_url

_MEDIA_TYPES = frozenset({"IMAGE", "VIDEO", "REELS", "STORIES", "CAROUSEL"})
_VIDEO_KINDS = frozenset({"mp4", "mov"})
_HASHTAG = re.compile(r"(?<!\w)#\w+")
_MENTION = re.compile(r"(?<!\w)@[\w.]+")


def fetch_failed() -> GraphError:
    return GraphError(
        9004,
        "Only photo or video can be accepted as media type.",
        subcode=2207052,
        user_title="Media download has failed. The media URI doesn't meet our requirements.",
        user_msg="The media could not be fetched from this URI.",
    )


def _check_caption(call: GraphCall, caption: str | None) -> None:
    if caption is None:
        return
    limits = call.sandbox.settings.instagram
    too_long = len(caption) > limits.caption_max_chars
    too_many = (
        len(_HASHTAG.findall(caption)) > limits.caption_max_hashtags
        or len(_MENTION.findall(caption)) > limits.caption_max_mentions
    )
    if too_long or too_many:
        raise GraphError(36004, "The caption is too long or has too many tags", subcode=2207010)


def _media_type(call: GraphCall, carousel_item: bool) -> str:
    raw = (call.req.params.text("media_type") or "IMAGE").upper()
    if raw not in _MEDIA_TYPES:
        raise GraphError(100, f"The media type {raw} is not supported", subcode=2207023)
    if raw == "VIDEO" and not carousel_item:
        # Single feed videos are published as reels since July 2023.
        raise GraphError(100, "The VIDEO media type is not supported; use REELS", subcode=2207023)
    if raw in ("REELS", "STORIES", "CAROUSEL") and carousel_item:
        raise invalid_param(f"{raw} cannot be a carousel item", subcode=2207023)
    return raw


async def _check_image(call: GraphCall, url: str, feed: bool) -> None:
    limits = call.sandbox.settings.instagram
    try:
        fetched = await call.sandbox.fetcher.fetch(url, max_bytes=limits.image_max_bytes)
    except FetchError as exc:
        if exc.reason == "too_large":
            raise GraphError(36000, "The image is too large", subcode=2207004) from None
        raise fetch_failed() from None
    sniffed = fetched.sniffed
    if sniffed.kind not in limits.image_formats:
        raise GraphError(36001, "The image format is not supported", subcode=2207005)
    if feed and sniffed.width and sniffed.height:
        ratio = sniffed.width / sniffed.height
        if not limits.image_min_aspect <= ratio <= limits.image_max_aspect:
            raise GraphError(36003, "The aspect ratio is not supported", subcode=2207009)


async def _pull_video(call: GraphCall, container: Container, url: str) -> None:
    limit = call.sandbox.settings.instagram.video_max_bytes
    try:
        fetched = await call.sandbox.fetcher.fetch(url, max_bytes=limit)
        if fetched.sniffed.kind not in _VIDEO_KINDS:
            container.error_subcode = 2207026
    except FetchError:
        container.error_subcode = 2207052
    finally:
        container.fetching = False


def _children(call: GraphCall, ig_user_id: str) -> list[str]:
    ids = [str(i) for i in call.req.params.array("children") or []]
    limits = call.sandbox.settings.instagram
    if not limits.carousel_min_items <= len(ids) <= limits.carousel_max_items:
        raise invalid_param("Carousels need 2 to 10 items", subcode=2207028)
    containers = call.sandbox.state.instagram.containers
    for child_id in ids:
        child = containers.get(child_id)
        if child is None or child.ig_user_id != ig_user_id or not child.is_carousel_item:
            raise invalid_param(f"The child {child_id} is not a carousel item of this account")
        if own_status(child, call.now) in (StatusCode.EXPIRED, StatusCode.PUBLISHED):
            raise GraphError(24, f"The media with id {child_id} cannot be found", subcode=2207006)
    return ids


def _check_cap(call: GraphCall, ig_user_id: str) -> None:
    limits = call.sandbox.settings.instagram
    log = call.sandbox.state.instagram.created
    made = log.count(ig_user_id, now=call.now, window_s=limits.publish_quota_window_s)
    if made >= limits.container_cap:
        raise GraphError(
            9, f"You reached the maximum of {limits.container_cap} containers in 24 hours"
        )
    log.record(ig_user_id, now=call.now)


async def create_container(call: GraphCall) -> dict[str, Any]:
    ig_user_id = call.need_node().id
    params = call.req.params
    carousel_item = params.flag("is_carousel_item", False)
    media_type = _media_type(call, carousel_item)
    caption = None if carousel_item else params.text("caption")
    _check_caption(call, caption)
    children = _children(call, ig_user_id) if media_type == "CAROUSEL" else []
    image_url, video_url = params.text("image_url"), params.text("video_url")
    is_video = media_type in ("VIDEO", "REELS") or (media_type == "STORIES" and bool(video_url))
    url = video_url if is_video else image_url
    if media_type != "CAROUSEL" and not url:
        raise missing_param("video_url" if is_video else "image_url")
    if is_video and url and not is_loopback_url(url):
        raise fetch_failed()
    if not is_video and url:
        await _check_image(call, url, feed=media_type in ("IMAGE", "CAROUSEL"))
    _check_cap(call, ig_user_id)
    container = _store(
        call,
        ig_user_id,
        media_type=media_type,
        carousel_item=carousel_item,
        children=children,
        caption=caption,
        url=url,
        is_video=is_video,
    )
    if is_video and url:
        call.sandbox.tasks.spawn(_pull_video(call, container, url))
    return {"id": container.id}


def _store(
    call: GraphCall,
    ig_user_id: str,
    *,
    media_type: str,
    carousel_item: bool,
    children: list[str],
    caption: str | None,
    url: str | None,
    is_video: bool,
) -> Container:
    state, limits = call.sandbox.state, call.sandbox.settings.instagram
    processing = limits.video_processing_s if is_video else limits.image_processing_s
    container = Container(
        id=state.ids.graph("ig_container"),
        ig_user_id=ig_user_id,
        media_type=media_type,
        is_carousel_item=carousel_item,
        children=children,
        caption=caption,
        media_url=url,
        created_at=call.now,
        ready_at=call.now + processing,
        expires_at=call.now + limits.container_ttl_s,
        is_video=is_video,
        fetching=is_video and url is not None,
    )
    state.instagram.containers[container.id] = container
    state.accounts.nodes.add(NodeKind.IG_CONTAINER, container.id, ig_user_id)
    return container
