"""The Graph routes of Facebook Pages and who may call them (permissions per platform-apis.md
§1.1: publishing needs `pages_manage_posts`, insights `read_insights`)."""

from __future__ import annotations

from platform_sandbox.accounts import NodeKind
from platform_sandbox.facebook import nodes, publishing, reads
from platform_sandbox.graph_router import GraphRouter, Handler, Route

_PUBLISH = frozenset({"pages_manage_posts"})
_READ = frozenset({"pages_read_engagement", "pages_manage_posts", "pages_show_list"})
_INSIGHTS = frozenset({"read_insights"})
_NO_PUBLISH = (
    200,
    "If posting to a page, requires both pages_read_engagement and pages_manage_posts as an "
    "admin with sufficient administrative permission",
)


def _publishing(handler: Handler, endpoint: str) -> Route:
    return Route(handler, "facebook", endpoint, scopes=_PUBLISH, scope_error=_NO_PUBLISH)


def register(router: GraphRouter) -> None:
    nodes.register(router)
    router.node(NodeKind.PAGE, "feed", "POST", _publishing(publishing.create_feed_post, "feed"))
    router.node(NodeKind.PAGE, "photos", "POST", _publishing(publishing.create_photo, "photos"))
    router.node(NodeKind.PAGE, "videos", "POST", _publishing(publishing.create_video, "videos"))
    router.node(
        NodeKind.PAGE, "feed", "GET", Route(reads.page_feed, "facebook", "feed", scopes=_READ)
    )
    router.node(
        NodeKind.PAGE, "videos", "GET", Route(reads.page_videos, "facebook", "videos", scopes=_READ)
    )
    router.node(NodeKind.PAGE_POST, None, "GET", Route(reads.get_post, "facebook", "post"))
    router.node(NodeKind.PAGE_POST, None, "POST", _publishing(publishing.update_post, "post"))
    router.node(NodeKind.PAGE_POST, None, "DELETE", _publishing(publishing.delete_post, "post"))
    router.node(NodeKind.PHOTO, None, "GET", Route(reads.get_photo, "facebook", "photo"))
    router.node(NodeKind.VIDEO, None, "GET", Route(reads.get_video, "facebook", "video"))
    post_insights = Route(reads.post_insights, "facebook", "insights", scopes=_INSIGHTS)
    router.node(NodeKind.PAGE_POST, "insights", "GET", post_insights)
    page_insights = Route(reads.page_insights, "facebook", "insights", scopes=_INSIGHTS)
    router.node(NodeKind.PAGE, "insights", "GET", page_insights)
