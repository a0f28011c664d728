"""What TikTok's webhooks tell this publisher (ADR 0005).

TikTok posts every event of an app to one callback URL: this publisher's. It verifies the
signature, then:
- `post.publish.*`: keeps the outcome per publish id, so the next status check of that publish
  needs no call to TikTok, and the public post id reaches the ledger without polling;
- `authorization.removed`: forwards the delivery untouched (body and signature) to
  auth-service, which verifies it itself and marks the integration disconnected. Once: a mark
  keyed by a digest of the body (the event, with its own `create_time`) is taken first, so a
  replay inside the signature's window is answered `duplicate` and not forwarded again; a
  forward that fails drops the mark, so TikTok's retry goes through (docs/security.md,
  "Webhooks"). auth-service keeps its own marks as well.
A delivery that could not be handled answers 5xx, so TikTok delivers it again (up to 72 h).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import structlog

from herald.inputs import unstorable_text
from publisher_tiktok.signatures import BadSignature, verify

log = structlog.get_logger(__name__)


class WebhookStore(Protocol):
    async def record(self, publish_id: str, event: str, content: dict[str, Any]) -> bool: ...

    async def first_delivery(self, key: str) -> bool:
        """True the first time `key` is marked; False when it was before (a unique insert)."""
        ...

    async def forget_delivery(self, key: str) -> None: ...


class Forwarder(Protocol):
    async def forward(self, body: bytes, signature: str) -> bool:
        """Hand a delivery to auth-service; True when it took it."""
        ...


class WebhookRejected(Exception):
    """Not TikTok's (bad signature) or not readable: 401 or 400, without detail."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class WebhookNotHandled(Exception):
    """A valid delivery that could not be handled now: 503, TikTok delivers it again."""


@dataclass
class WebhookReceiver:
    store: WebhookStore
    forwarder: Forwarder
    secrets: list[str]
    tolerance_s: float
    clock: Callable[[], float]
    on_bad_signature: Callable[[], None] = lambda: None

    async def receive(self, body: bytes, signature: str | None) -> str:
        """Handle one delivery; returns what was done (for the log and the answer)."""
        try:
            verify(signature, body, self.secrets, self.clock(), self.tolerance_s)
        except BadSignature as exc:
            self.on_bad_signature()
            log.warning("tiktok.webhook_rejected", reason=str(exc))
            raise WebhookRejected(401) from None
        event = _json(body)
        name = str(event.get("event") or "")
        if name == "authorization.removed":
            return await self._forward_once(body, signature or "")
        if name.startswith("post.publish."):
            return await self._publish_event(name, _json(event.get("content") or "{}"))
        return "ignored"

    async def _forward_once(self, body: bytes, signature: str) -> str:
        key = f"authorization.removed:{hashlib.sha256(body).hexdigest()}"
        if not await self.store.first_delivery(key):
            log.info("tiktok.webhook", webhook_event="authorization.removed", duplicate=True)
            return "duplicate"
        try:
            forwarded = await self.forwarder.forward(body, signature)
        except BaseException:
            await self.store.forget_delivery(key)
            raise
        if not forwarded:
            await self.store.forget_delivery(key)
            raise WebhookNotHandled
        return "forwarded"

    async def _publish_event(self, name: str, content: dict[str, Any]) -> str:
        publish_id = content.get("publish_id")
        if not isinstance(publish_id, str) or not publish_id:
            raise WebhookRejected(400)
        fresh = await self.store.record(publish_id, name, content)
        log.info("tiktok.webhook", webhook_event=name, publish_id=publish_id, duplicate=not fresh)
        return "recorded" if fresh else "duplicate"


def _json(raw: bytes | str) -> dict[str, Any]:
    """An object, or 400: not JSON, nested too deep for the parser, or holding text that cannot
    be stored (a lone surrogate, NUL; `herald.inputs`) are refused, not failed on (issue 19)."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise WebhookRejected(400) from None
    if not isinstance(value, dict) or next(unstorable_text(value), None) is not None:
        raise WebhookRejected(400)
    return value
