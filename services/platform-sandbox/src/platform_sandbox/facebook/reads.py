"""Reading what was published: posts, photos, videos (with `status.video_status`), the Page
feed, and insights."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from platform_sandbox.account_stats import days_between
from platform_sandbox.clock import iso
from platform_sandbox.facebook.insights import POST_METRICS, insights, metric_names
from platform_sandbox.facebook.model import PagePost, Video
from platform_sandbox.facebook.page_insights import MAX_DAYS
from platform_sandbox.facebook.page_insights import page_insights as by_day
from platform_sandbox.fields import select
from platform_sandbox.graph_router import GraphCall


def _post_fields(call: GraphCall, post: PagePost) -> dict[str, Any]:
    page = call.sandbox.state.accounts.pages.get(post.page_id)
    return {
        "id": post.id,
        "message": post.message,
        "link": post.link,
        "created_time": iso(post.created_time),
        "updated_time": iso(post.created_time),
        "permalink_url": f"https://www.facebook.com/{post.id}",
        "is_published": post.published,
        "scheduled_publish_time": post.scheduled_publish_time,
        "from": {"id": post.page_id, "name": page.name if page else ""},
        "attachments": {"data": [{"media_fbid": m} for m in post.attached_media]}
        if post.attached_media
        else None,
    }


async def get_post(call: GraphCall) -> dict[str, Any]:
    post = call.sandbox.state.facebook.posts[call.need_node().id]
    default = ["created_time", "message", "id"]
    return select(_post_fields(call, post), call.req.params.text("fields"), default, "Post")


def _page_edge(
    call: GraphCall,
    nodes: Iterable[Any],
    fields: Callable[[Any], dict[str, Any]],
    default: list[str],
    kind: str,
) -> dict[str, Any]:
    """A Page edge (`/feed`, `/videos`): the Page's nodes newest first, `limit` (25) of them."""
    page_id = call.need_node().id
    mine = sorted(
        (n for n in nodes if n.page_id == page_id), key=lambda n: n.created_time, reverse=True
    )
    limit = call.req.params.integer("limit") or 25
    wanted = call.req.params.text("fields")
    data = [select(fields(n), wanted, default, kind) for n in mine[:limit]]
    return {"data": data, "paging": {"cursors": {"before": "MAZDZD", "after": "MQZDZD"}}}


async def page_feed(call: GraphCall) -> dict[str, Any]:
    posts = call.sandbox.state.facebook.posts.values()
    default = ["created_time", "message", "id"]
    return _page_edge(call, posts, lambda p: _post_fields(call, p), default, "Post")


async def get_photo(call: GraphCall) -> dict[str, Any]:
    photo = call.sandbox.state.facebook.photos[call.need_node().id]
    available = {
        "id": photo.id,
        "created_time": iso(photo.created_time),
        "name": photo.caption,
        "page_story_id": photo.post_id,
        "link": f"https://www.facebook.com/photo.php?fbid={photo.id}",
    }
    return select(available, call.req.params.text("fields"), ["created_time", "id"], "Photo")


async def get_video(call: GraphCall) -> dict[str, Any]:
    video = call.sandbox.state.facebook.videos[call.need_node().id]
    return select(
        _video_fields(call, video), call.req.params.text("fields"), _VIDEO_DEFAULT, "Video"
    )


async def page_videos(call: GraphCall) -> dict[str, Any]:
    """`GET /{page-id}/videos`: the Page's videos, newest first, as Video nodes."""
    videos = call.sandbox.state.facebook.videos.values()
    return _page_edge(call, videos, lambda v: _video_fields(call, v), _VIDEO_DEFAULT, "Video")


_VIDEO_DEFAULT = ["updated_time", "description", "id"]


def _video_fields(call: GraphCall, video: Video) -> dict[str, Any]:
    return {
        "id": video.id,
        "title": video.title,
        "description": video.description,
        "created_time": iso(video.created_time),
        "updated_time": iso(video.created_time),
        "published": video.published,
        "permalink_url": f"/{video.page_id}/videos/{video.id}/",
        "post_id": video.post_id,
        "status": video.status(call.now),
    }


async def post_insights(call: GraphCall) -> dict[str, Any]:
    post = call.sandbox.state.facebook.posts[call.need_node().id]
    names = metric_names(call.req.params.text("metric"), call.rest)
    return insights(
        post.id,
        names,
        POST_METRICS,
        age_s=call.now - post.created_time,
        period="lifetime",
        now=call.now,
    )


async def page_insights(call: GraphCall) -> dict[str, Any]:
    page = call.sandbox.state.accounts.pages[call.need_node().id]
    names = metric_names(call.req.params.text("metric"), call.rest)
    period = call.req.params.text("period") or "day"
    params = call.req.params
    since, until = params.text("since"), params.text("until")
    days = days_between(since, until, call.now, max_days=MAX_DAYS, default_days=2)
    return by_day(page.id, names, period, days, page.followers)
