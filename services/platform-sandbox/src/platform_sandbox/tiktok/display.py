"""Display API reads for analytics (platform-apis.md §4.3): `user/info`, `video/query` (up to
20 ids, only the token owner's videos) and `video/list`. Fields beyond the granted scopes are
`scope_permission_missed`; unknown fields `invalid_params`."""

from __future__ import annotations

from typing import Any

from platform_sandbox.account_stats import day_of, total
from platform_sandbox.stats import figure
from platform_sandbox.tiktok.calls import TikTokCall
from platform_sandbox.tiktok.envelope import TikTokError
from platform_sandbox.tiktok.model import TikTokPost

_USER_SCOPES = {
    "open_id": "user.info.basic",
    "union_id": "user.info.basic",
    "avatar_url": "user.info.basic",
    "avatar_url_100": "user.info.basic",
    "avatar_large_url": "user.info.basic",
    "display_name": "user.info.basic",
    "bio_description": "user.info.profile",
    "profile_deep_link": "user.info.profile",
    "is_verified": "user.info.profile",
    "username": "user.info.profile",
    "follower_count": "user.info.stats",
    "following_count": "user.info.stats",
    "likes_count": "user.info.stats",
    "video_count": "user.info.stats",
}
_VIDEO_FIELDS = frozenset(
    {
        "id",
        "create_time",
        "cover_image_url",
        "share_url",
        "video_description",
        "duration",
        "height",
        "width",
        "title",
        "embed_html",
        "embed_link",
        "like_count",
        "comment_count",
        "share_count",
        "view_count",
    }
)


def _fields(call: TikTokCall, allowed: frozenset[str]) -> list[str]:
    raw = call.request.query_params.get("fields", "")
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    if not fields:
        raise TikTokError(400, "invalid_params", "fields is required")
    unknown = [f for f in fields if f not in allowed]
    if unknown:
        raise TikTokError(400, "invalid_params", f"Unknown fields: {','.join(unknown)}")
    return fields


async def user_info(call: TikTokCall) -> dict[str, Any]:
    fields = _fields(call, frozenset(_USER_SCOPES))
    missing = sorted({_USER_SCOPES[f] for f in fields} - call.token.scopes)
    if missing:
        raise TikTokError(401, "scope_permission_missed", f"Fields need the scope {missing[0]}.")
    creator = call.creator
    day = day_of(call.now)  # the counts grow by a step a day (platform_sandbox.account_stats)
    videos = sum(
        1 for p in call.sandbox.state.tiktok.posts.values() if p.open_id == creator.open_id
    )
    values = {
        "open_id": creator.open_id,
        "union_id": creator.union_id,
        "avatar_url": f"https://p16-sign.tiktokcdn.com/{creator.open_id}.jpeg",
        "avatar_url_100": f"https://p16-sign.tiktokcdn.com/{creator.open_id}~100.jpeg",
        "avatar_large_url": f"https://p16-sign.tiktokcdn.com/{creator.open_id}~720.jpeg",
        "display_name": creator.display_name,
        "bio_description": creator.bio_description,
        "profile_deep_link": f"https://vm.tiktok.com/{creator.username}/",
        "is_verified": creator.is_verified,
        "username": creator.username,
        "follower_count": total(creator.open_id, "follower_count", day, creator.follower_count),
        "following_count": total(creator.open_id, "following_count", day, creator.following_count),
        "likes_count": total(creator.open_id, "likes_count", day, creator.likes_count),
        "video_count": videos,
    }
    return {"user": {f: values[f] for f in fields}}


def _video(call: TikTokCall, post: TikTokPost, fields: list[str]) -> dict[str, Any]:
    age = call.now - post.create_time
    share = f"https://www.tiktok.com/@{call.creator.username}/video/{post.id}"
    values: dict[str, Any] = {
        "id": post.id,
        "create_time": int(post.create_time),
        "cover_image_url": f"https://p16-sign.tiktokcdn.com/obj/{post.id}.jpeg",
        "share_url": share,
        "video_description": post.description[:150],
        "duration": post.duration,
        "height": post.height,
        "width": post.width,
        "title": post.title[:150],
        "embed_html": f'<blockquote class="tiktok-embed" cite="{share}"></blockquote>',
        "embed_link": f"https://www.tiktok.com/embed/v2/{post.id}",
        "like_count": figure(post.id, "like_count", age, scale=2_000),
        "comment_count": figure(post.id, "comment_count", age, scale=200),
        "share_count": figure(post.id, "share_count", age, scale=100),
        "view_count": figure(post.id, "view_count", age, scale=50_000),
    }
    return {f: values[f] for f in fields}


def _visible(call: TikTokCall) -> list[TikTokPost]:
    posts = call.sandbox.state.tiktok.posts.values()
    return [p for p in posts if p.open_id == call.token.subject and p.create_time <= call.now]


async def video_query(call: TikTokCall) -> dict[str, Any]:
    fields = _fields(call, _VIDEO_FIELDS)
    filters = call.body.get("filters")
    ids = filters.get("video_ids") if isinstance(filters, dict) else None
    if not isinstance(ids, list) or not 1 <= len(ids) <= 20:
        raise TikTokError(400, "invalid_params", "filters.video_ids must hold 1 to 20 ids")
    wanted = {str(i) for i in ids}
    return {"videos": [_video(call, p, fields) for p in _visible(call) if p.id in wanted]}


async def video_list(call: TikTokCall) -> dict[str, Any]:
    fields = _fields(call, _VIDEO_FIELDS)
    count = call.body.get("max_count", 10)
    if not isinstance(count, int) or not 1 <= count <= 20:
        raise TikTokError(400, "invalid_params", "max_count must be 1 to 20")
    cursor = call.body.get("cursor")
    posts = sorted(_visible(call), key=lambda p: p.create_time, reverse=True)
    if isinstance(cursor, int):
        posts = [p for p in posts if p.create_time * 1000 < cursor]
    page = posts[:count]
    next_cursor = int(page[-1].create_time * 1000) if page else 0
    return {
        "videos": [_video(call, p, fields) for p in page],
        "cursor": next_cursor,
        "has_more": len(posts) > count,
    }
