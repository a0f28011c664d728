"""People and Pages on Graph: `/me`, `/me/accounts` with Page tokens, `/{page-id}` fields
(`access_token`, `instagram_business_account`), permissions and their revocation.

A Page token follows the user token it came from (platform-apis.md §1.1): from a long-lived
user token it has no expiry date; from a short-lived one it expires with it; either way it dies
when the user token is revoked. Removing the app (`DELETE /me/permissions`) revokes every token
of the person with subcode 458.
"""

from __future__ import annotations

from typing import Any

from platform_sandbox.account_stats import day_of, total
from platform_sandbox.accounts import NodeKind, Page
from platform_sandbox.fields import select
from platform_sandbox.graph_errors import GraphError
from platform_sandbox.graph_router import GraphCall, GraphRouter, Route
from platform_sandbox.tokens import META_USER_KINDS, Token, TokenKind

_PAGE_DEFAULT = ["name", "id"]
_ACCOUNT_DEFAULT = ["access_token", "category", "category_list", "name", "id", "tasks"]


def page_token(call: GraphCall, page: Page) -> str | None:
    """The Page token the caller may see: its own, or one derived from its user token."""
    token = call.need_token()
    if token.kind is TokenKind.PAGE and token.subject == page.id:
        return token.value
    if token.kind not in META_USER_KINDS or token.subject not in page.roles:
        return None
    store = call.sandbox.state.tokens
    for existing in store.by_subject(page.id):
        if existing.parent == token.value and not existing.revoked:
            return existing.value
    lifetime = (
        None
        if token.expires_at is None or token.kind is TokenKind.USER_LONG
        else (token.expires_at - call.now)
    )
    derived = store.issue(
        TokenKind.PAGE,
        subject=page.id,
        app_id=token.app_id,
        scopes=token.scopes,
        now=call.now,
        lifetime_s=lifetime,
        parent=token.value,
    )
    return derived.value


def page_fields(call: GraphCall, page: Page, wanted: str | None) -> dict[str, Any]:
    accounts = call.sandbox.state.accounts
    ig = accounts.ig_users.get(page.ig_user_id or "")
    token = call.need_token()
    followers = total(page.id, "page_follows", day_of(call.now), page.followers)
    fields: dict[str, Any] = {
        "id": page.id,
        "name": page.name,
        "category": page.category,
        "category_list": [{"id": "2200", "name": page.category}],
        "link": f"https://www.facebook.com/{page.id}",
        "followers_count": followers,
        "fan_count": followers,
        "tasks": page.roles.get(token.subject),
        "instagram_business_account": _ig_summary(ig.id, ig.username, ig.name) if ig else None,
        "access_token": None,
    }
    if wanted is None or "access_token" in wanted:
        fields["access_token"] = page_token(call, page)
    return fields


def _ig_summary(ig_id: str, username: str, name: str) -> dict[str, str]:
    return {"id": ig_id, "username": username, "name": name}


async def get_page(call: GraphCall) -> dict[str, Any]:
    page = call.sandbox.state.accounts.pages[call.need_node().id]
    wanted = call.req.params.text("fields")
    available = page_fields(call, page, wanted or "")
    return select(available, wanted, _PAGE_DEFAULT, NodeKind.PAGE.value)


async def get_user(call: GraphCall) -> dict[str, Any]:
    node = call.need_node()
    if node.kind is NodeKind.SYSTEM_USER:
        available = {"id": node.id, "name": "Herald (business integration)"}
    else:
        user = call.sandbox.state.accounts.users[node.id]
        available = {"id": user.id, "name": user.name}
    return select(available, call.req.params.text("fields"), ["name", "id"], node.kind.value)


async def accounts_edge(call: GraphCall) -> dict[str, Any]:
    user_id = call.need_node().id
    wanted = call.req.params.text("fields")
    pages = call.sandbox.state.accounts.pages_of(user_id)
    data = [
        select(page_fields(call, page, wanted), wanted, _ACCOUNT_DEFAULT, NodeKind.PAGE.value)
        for page in pages
    ]
    cursors = {"before": "MAZDZD", "after": f"M{len(data)}ZDZD"}
    return {"data": data, "paging": {"cursors": cursors}}


def _own_user_token(call: GraphCall) -> Token:
    token = call.need_token()
    if token.kind is not TokenKind.APP and token.subject != call.need_node().id:
        raise GraphError(200, "Permissions error")
    return token


async def permissions(call: GraphCall) -> dict[str, Any]:
    token = _own_user_token(call)
    data = [{"permission": scope, "status": "granted"} for scope in sorted(token.scopes)]
    return {"data": data}


async def revoke_permissions(call: GraphCall) -> dict[str, Any]:
    _own_user_token(call)
    store, user_id = call.sandbox.state.tokens, call.need_node().id
    if call.rest:
        store.drop_scope(user_id, call.rest[0])
    else:
        store.revoke_subject(user_id, subcode=458)
    return {"success": True}


async def get_business(call: GraphCall) -> dict[str, Any]:
    business = call.sandbox.state.accounts.businesses[call.need_node().id]
    available = {"id": business.id, "name": business.name}
    return select(available, call.req.params.text("fields"), ["id", "name"], "Business")


def register(router: GraphRouter) -> None:
    router.node(NodeKind.USER, None, "GET", Route(get_user, "meta", "user"))
    router.node(NodeKind.SYSTEM_USER, None, "GET", Route(get_user, "meta", "user"))
    router.node(NodeKind.USER, "accounts", "GET", Route(accounts_edge, "facebook", "accounts"))
    router.node(NodeKind.USER, "permissions", "GET", Route(permissions, "meta", "permissions"))
    revoke = Route(revoke_permissions, "meta", "permissions")
    router.node(NodeKind.USER, "permissions", "DELETE", revoke)
    router.node(NodeKind.PAGE, None, "GET", Route(get_page, "facebook", "page"))
    router.node(NodeKind.BUSINESS, None, "GET", Route(get_business, "whatsapp", "business"))
