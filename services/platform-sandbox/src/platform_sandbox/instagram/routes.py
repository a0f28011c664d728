"""The Graph routes of Instagram, on both hosts: `graph.facebook.com` with Facebook tokens and
`graph.instagram.com` with Instagram-login tokens. Permissions per platform-apis.md §2."""

from __future__ import annotations

from platform_sandbox.accounts import NodeKind
from platform_sandbox.graph_router import GraphRouter, Handler, Route
from platform_sandbox.instagram import containers, publishing, reads

_PUBLISH = frozenset({"instagram_content_publish", "instagram_business_content_publish"})
_INSIGHTS = frozenset({"instagram_manage_insights", "instagram_business_manage_insights"})
_DENIED = (10, "Application does not have permission for this action")


def _route(handler: Handler, endpoint: str, scopes: frozenset[str] = frozenset()) -> Route:
    return Route(handler, "instagram", endpoint, scopes=scopes, scope_error=_DENIED)


def register(router: GraphRouter) -> None:
    user, container, media = NodeKind.IG_USER, NodeKind.IG_CONTAINER, NodeKind.IG_MEDIA
    router.node(user, None, "GET", _route(reads.get_ig_user, "ig_user"))
    router.node(user, "media", "POST", _route(containers.create_container, "media", _PUBLISH))
    router.node(user, "media", "GET", _route(reads.list_media, "media"))
    account = _route(reads.get_account_insights, "insights", _INSIGHTS)
    router.node(user, "insights", "GET", account)
    router.node(
        user, "media_publish", "POST", _route(publishing.publish, "media_publish", _PUBLISH)
    )
    limit = _route(publishing.publishing_limit, "content_publishing_limit")
    router.node(user, "content_publishing_limit", "GET", limit)
    router.node(container, None, "GET", _route(reads.get_container, "container"))
    router.node(media, None, "GET", _route(reads.get_media, "ig_media"))
    router.node(media, "children", "GET", _route(reads.media_children, "ig_media"))
    router.node(media, "insights", "GET", _route(reads.get_insights, "insights", _INSIGHTS))
