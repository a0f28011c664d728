"""Publishing to a Page: `/feed` (text, link, multi-photo `attached_media`), `/photos`
(`published=false` for the photos of a multi-photo post), `/videos` (`file_url`), and updating
or deleting a post. Contracts: platform-apis.md §1.2.

- `scheduled_publish_time` needs `published=false` and must lie 10 minutes to 30 days ahead.
- The same text posted twice in a row is refused with 506 "Duplicate status message".
- Photos from `url` and videos from `file_url` are fetched (from loopback) as Facebook would.
- Every post, published photo and video goes into the ledger with the request behind it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from platform_sandbox.accounts import NodeKind
from platform_sandbox.facebook.model import PagePost, Photo, Video
from platform_sandbox.graph_errors import GraphError, invalid_param
from platform_sandbox.graph_router import GraphCall
from platform_sandbox.media.fetch import FetchError, is_loopback_url
from platform_sandbox.media.synthetic import sniff

_IMAGE_KINDS = frozenset({"jpeg", "png", "webp"})
_VIDEO_KINDS = frozenset({"mp4", "mov", "webm"})


def _schedule(call: GraphCall, published: bool) -> int | None:
    raw = call.req.params.text("scheduled_publish_time")
    if raw is None:
        return None
    if published:
        raise invalid_param("Cannot specify a scheduled publish time on a published post")
    try:
        when = int(raw) if raw.isdigit() else int(datetime.fromisoformat(raw).timestamp())
    except ValueError:
        raise invalid_param("The specified scheduled publish time is invalid.") from None
    settings = call.sandbox.settings.facebook
    if not call.now + settings.schedule_min_s <= when <= call.now + settings.schedule_max_s:
        raise invalid_param("The specified scheduled publish time is invalid.")
    return when


def _attached(call: GraphCall, page_id: str) -> list[str]:
    ids = []
    photos = call.sandbox.state.facebook.photos
    for item in call.req.params.array("attached_media") or []:
        fbid = item.get("media_fbid") if isinstance(item, dict) else None
        photo = photos.get(str(fbid))
        if photo is None or photo.page_id != page_id or photo.published or photo.attached:
            raise invalid_param(f"attached_media: {fbid} is not an unpublished photo of this Page")
        ids.append(photo.id)
    return ids


def _check_duplicate(call: GraphCall, page_id: str, message: str | None, link: str | None) -> None:
    settings = call.sandbox.settings.facebook
    posts = [p for p in call.sandbox.state.facebook.posts.values() if p.page_id == page_id]
    if not settings.reject_duplicate_posts or not posts or message is None:
        return
    last = max(posts, key=lambda p: p.created_time)
    recent = call.now - last.created_time < settings.duplicate_window_s
    if recent and (last.message, last.link) == (message, link):
        raise GraphError(506, "Duplicate status message")


def record(call: GraphCall, kind: str, page_id: str, object_id: str, text: str | None) -> None:
    sandbox = call.sandbox
    request = {"method": call.req.method, "path": call.req.path, "params": call.req.params.public()}
    sandbox.ledger.record(
        platform="facebook",
        kind=kind,
        account=page_id,
        object_id=object_id,
        at=call.now,
        marker=sandbox.ledger.marker(call.req.headers, [text]),
        text=text,
        request=request,
    )


def _new_post(
    call: GraphCall,
    page_id: str,
    *,
    message: str | None,
    link: str | None = None,
    attached: list[str],
    published: bool,
    scheduled: int | None,
) -> PagePost:
    state = call.sandbox.state
    post = PagePost(
        state.ids.post_id(page_id),
        page_id,
        message,
        link,
        attached,
        published,
        scheduled,
        call.now,
        call.need_token().app_id,
    )
    state.facebook.posts[post.id] = post
    state.accounts.nodes.add(NodeKind.PAGE_POST, post.id, page_id)
    return post


def _post_kind(published: bool, scheduled: int | None) -> str:
    return "post_created" if published else "post_scheduled" if scheduled else "post_unpublished"


async def create_feed_post(call: GraphCall) -> dict[str, Any]:
    page_id = call.need_node().id
    params = call.req.params
    message, link = params.text("message"), params.text("link")
    attached = _attached(call, page_id)
    if not (message or link or attached):
        raise invalid_param("Missing message or attachment")
    published = params.flag("published", True)
    scheduled = _schedule(call, published)
    _check_duplicate(call, page_id, message, link)
    post = _new_post(
        call,
        page_id,
        message=message,
        link=link,
        attached=attached,
        published=published,
        scheduled=scheduled,
    )
    for photo_id in attached:
        call.sandbox.state.facebook.photos[photo_id].attached = True
    record(call, _post_kind(published, scheduled), page_id, post.id, message)
    return {"id": post.id}


async def _image_kind(call: GraphCall) -> None:
    upload = call.req.files.get("source")
    if upload is not None:
        kind = sniff(upload.data[:65536]).kind
    else:
        url = call.req.params.text("url")
        if not url:
            raise GraphError(324, "Requires upload file")
        limit = call.sandbox.settings.facebook.photo_max_bytes
        try:
            kind = (await call.sandbox.fetcher.fetch(url, max_bytes=limit)).sniffed.kind
        except FetchError:
            raise GraphError(324, "Missing or invalid image file") from None
    if kind not in _IMAGE_KINDS:
        raise GraphError(324, "Missing or invalid image file")


async def create_photo(call: GraphCall) -> dict[str, Any]:
    page_id = call.need_node().id
    params = call.req.params
    published = params.flag("published", True)
    scheduled = _schedule(call, published)
    caption = params.text("caption") or params.text("message")
    await _image_kind(call)
    state = call.sandbox.state
    photo = Photo(
        state.ids.graph("photo"),
        page_id,
        None,
        published,
        params.flag("temporary", False),
        caption,
        call.now,
    )
    state.facebook.photos[photo.id] = photo
    state.accounts.nodes.add(NodeKind.PHOTO, photo.id, page_id)
    if not (published or scheduled):
        return {"id": photo.id}
    post = _new_post(
        call,
        page_id,
        message=caption,
        attached=[photo.id],
        published=published,
        scheduled=scheduled,
    )
    photo.post_id = post.id
    record(call, "photo_published" if published else "post_scheduled", page_id, post.id, caption)
    return {"id": photo.id, "post_id": post.id}


async def create_video(call: GraphCall) -> dict[str, Any]:
    page_id = call.need_node().id
    params, sandbox = call.req.params, call.sandbox
    file_url, upload = params.text("file_url"), call.req.files.get("source")
    if upload is not None and sniff(upload.data[:65536]).kind not in _VIDEO_KINDS:
        raise GraphError(
            352, "Sorry, the video file you selected is in a format that we don't support."
        )
    if upload is None and (not file_url or not is_loopback_url(file_url)):
        raise invalid_param("file_url must be a URL the platform can fetch (loopback only)")
    published = params.flag("published", True)
    description = params.text("description")
    video = Video(
        sandbox.state.ids.graph("video"),
        page_id,
        params.text("title"),
        description,
        call.now,
        call.now + sandbox.settings.facebook.video_processing_s,
        None,
        published,
    )
    if published:
        video.post_id = f"{page_id}_{video.id}"
    sandbox.state.facebook.videos[video.id] = video
    sandbox.state.accounts.nodes.add(NodeKind.VIDEO, video.id, page_id)
    if upload is None and file_url is not None:
        sandbox.tasks.spawn(_pull_video(call, video, file_url))
    if published:
        record(call, "video_published", page_id, video.id, description)
    return {"id": video.id}


async def _pull_video(call: GraphCall, video: Video, url: str) -> None:
    limit = call.sandbox.settings.facebook.video_max_bytes
    try:
        fetched = await call.sandbox.fetcher.fetch(url, max_bytes=limit)
    except FetchError as exc:
        video.error = str(exc)
        return
    if fetched.sniffed.kind not in _VIDEO_KINDS:
        video.error = "the file is not a video"


async def update_post(call: GraphCall) -> dict[str, Any]:
    post = call.sandbox.state.facebook.posts[call.need_node().id]
    if post.app_id != call.need_token().app_id:
        raise GraphError(200, "Permissions error")
    message = call.req.params.text("message")
    if message is not None:
        post.message = message
        record(call, "post_updated", post.page_id, post.id, message)
    return {"success": True}


async def delete_post(call: GraphCall) -> dict[str, Any]:
    state = call.sandbox.state
    post = state.facebook.posts.pop(call.need_node().id)
    state.accounts.nodes.remove(post.id)
    record(call, "post_deleted", post.page_id, post.id, post.message)
    return {"success": True}
