"""Reading Instagram objects: the account, container status, published media, insights."""

from __future__ import annotations

from typing import Any

from platform_sandbox.account_stats import day_of, total
from platform_sandbox.clock import iso
from platform_sandbox.fields import select
from platform_sandbox.graph_errors import GraphError
from platform_sandbox.graph_router import GraphCall
from platform_sandbox.instagram.account_insights import account_insights
from platform_sandbox.instagram.insights import media_insights
from platform_sandbox.instagram.model import status_text
from platform_sandbox.instagram.publishing import container_status
from platform_sandbox.stats import figure


async def get_ig_user(call: GraphCall) -> dict[str, Any]:
    state = call.sandbox.state
    ig = state.accounts.ig_users[call.need_node().id]
    media_count = sum(1 for m in state.instagram.media.values() if m.ig_user_id == ig.id)
    available = {
        "id": ig.id,
        "user_id": ig.id,
        "username": ig.username,
        "name": ig.name,
        "account_type": "BUSINESS",
        "profile_picture_url": f"https://scontent.cdninstagram.com/{ig.id}.jpg",
        "followers_count": total(ig.id, "followers", day_of(call.now), ig.followers_count),
        "follows_count": 180,
        "media_count": media_count,
        "biography": "Posting through the platform sandbox",
    }
    return select(available, call.req.params.text("fields"), ["id"], "IGUser")


async def get_container(call: GraphCall) -> dict[str, Any]:
    container = call.sandbox.state.instagram.containers[call.need_node().id]
    status = container_status(call, container)
    available = {
        "id": container.id,
        "status_code": status.value,
        "status": status_text(status, container.error_subcode),
        "video_status": None,
        "copyright_check_status": None,
    }
    return select(available, call.req.params.text("fields"), ["id"], "ShadowIGMediaBuilder")


async def get_media(call: GraphCall) -> dict[str, Any]:
    media = call.sandbox.state.instagram.media[call.need_node().id]
    ig = call.sandbox.state.accounts.ig_users.get(media.ig_user_id)
    age = call.now - media.timestamp
    available = {
        "id": media.id,
        "media_type": media.media_type,
        "media_product_type": media.media_product_type,
        "caption": media.caption,
        "permalink": media.permalink,
        "shortcode": media.shortcode,
        "timestamp": iso(media.timestamp),
        "username": ig.username if ig else None,
        "media_url": media.media_url,
        "like_count": figure(media.id, "likes", age, scale=5_000),
        "comments_count": figure(media.id, "comments", age, scale=500),
        "is_comment_enabled": True,
        "children": {"data": [{"id": c} for c in media.children]} if media.children else None,
    }
    return select(available, call.req.params.text("fields"), ["id"], "IGMedia")


async def media_children(call: GraphCall) -> dict[str, Any]:
    media = call.sandbox.state.instagram.media[call.need_node().id]
    return {"data": [{"id": c} for c in media.children]}


async def list_media(call: GraphCall) -> dict[str, Any]:
    ig_user_id = call.need_node().id
    items = sorted(
        (
            m
            for m in call.sandbox.state.instagram.media.values()
            if m.ig_user_id == ig_user_id and m.parent_id is None
        ),
        key=lambda m: m.timestamp,
        reverse=True,
    )
    return {"data": [{"id": m.id} for m in items[: call.req.params.integer("limit") or 25]]}


async def get_insights(call: GraphCall) -> dict[str, Any]:
    media = call.sandbox.state.instagram.media[call.need_node().id]
    raw = call.req.params.text("metric")
    names = [m.strip() for m in (raw or "").split(",") if m.strip()]
    if not names:
        raise GraphError(100, "The parameter metric is required")
    limits = call.sandbox.settings.instagram
    breakdown = call.req.params.text("breakdown")
    return media_insights(media, names, breakdown, call.now, limits.story_min_viewers)


async def get_account_insights(call: GraphCall) -> dict[str, Any]:
    ig_user_id = call.need_node().id
    params = call.req.params
    names = [m.strip() for m in (params.text("metric") or "").split(",") if m.strip()]
    wanted = ("period", "metric_type", "since", "until")
    return account_insights(ig_user_id, names, {k: params.text(k) for k in wanted}, call.now)
