"""Where webhooks may go: the media fetcher's address rules (ADR 0002), plus loopback when
`webhooks.allow_loopback` says so (local runs and tests)."""

from __future__ import annotations

import httpx

from herald.media.addresses import literal_address
from herald.media.guard import Policy, Refused, check_url
from scheduler.webhooks.settings import WebhookSettings


def is_loopback(url: httpx.URL) -> bool:
    address = literal_address(url.host)
    if address is not None:
        return address.is_loopback
    return url.host.rstrip(".").lower() == "localhost"


def policy(settings: WebhookSettings) -> Policy:
    return Policy.build(settings.allowed_schemes, settings.allowed_ports, [])


def check_endpoint_url(raw: str, settings: WebhookSettings) -> str:
    """The URL as it will be called, or `ValueError` saying why it is refused."""
    try:
        url = httpx.URL(raw)
    except httpx.InvalidURL as exc:
        msg = f"the URL cannot be parsed ({exc})"
        raise ValueError(msg) from None
    local = url.scheme in ("http", "https") and bool(url.host) and not url.userinfo
    if settings.allow_loopback and local and is_loopback(url):
        return str(url)
    try:
        return str(check_url(raw, policy(settings)))
    except Refused as exc:
        message = exc.message.replace("can be fetched", "can receive webhooks")
        raise ValueError(message) from None
