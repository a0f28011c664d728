"""The Graph routes of the WhatsApp Cloud API and Business Management API. Sending needs
`whatsapp_business_messaging`; managing accounts `whatsapp_business_management`."""

from __future__ import annotations

from platform_sandbox.accounts import NodeKind
from platform_sandbox.graph_router import GraphRouter, Handler, Route
from platform_sandbox.whatsapp import business, media, messages

_MESSAGING = frozenset({"whatsapp_business_messaging"})
_MANAGEMENT = frozenset({"whatsapp_business_management"})
_DENIED = (10, "Application does not have permission for this action")


def _route(handler: Handler, endpoint: str, scopes: frozenset[str]) -> Route:
    return Route(handler, "whatsapp", endpoint, scopes=scopes, scope_error=_DENIED)


def register(router: GraphRouter) -> None:
    phone, waba = NodeKind.PHONE_NUMBER, NodeKind.WABA
    router.node(phone, "messages", "POST", _route(messages.send_message, "messages", _MESSAGING))
    router.node(phone, "media", "POST", _route(media.upload, "media", _MESSAGING))
    router.node(NodeKind.WA_MEDIA, None, "GET", _route(media.retrieve, "media", _MESSAGING))
    router.node(NodeKind.WA_MEDIA, None, "DELETE", _route(media.delete, "media", _MESSAGING))
    router.node(phone, None, "GET", _route(business.get_phone_number, "phone_number", _MANAGEMENT))
    router.node(
        phone, "register", "POST", _route(business.register_number, "register", _MANAGEMENT)
    )
    router.node(waba, None, "GET", _route(business.get_waba, "waba", _MANAGEMENT))
    router.node(
        waba, "phone_numbers", "GET", _route(business.phone_numbers, "phone_numbers", _MANAGEMENT)
    )
    templates = _route(business.message_templates, "message_templates", _MANAGEMENT)
    router.node(waba, "message_templates", "GET", templates)
    router.node(
        waba, "subscribed_apps", "POST", _route(business.subscribe, "subscribed_apps", _MANAGEMENT)
    )
    router.node(
        waba,
        "subscribed_apps",
        "GET",
        _route(business.subscriptions, "subscribed_apps", _MANAGEMENT),
    )
    router.node(
        waba,
        "subscribed_apps",
        "DELETE",
        _route(business.unsubscribe, "subscribed_apps", _MANAGEMENT),
    )
    for edge in ("owned_whatsapp_business_accounts", "client_whatsapp_business_accounts"):
        router.node(
            NodeKind.BUSINESS, edge, "GET", _route(business.business_wabas, edge, frozenset())
        )
