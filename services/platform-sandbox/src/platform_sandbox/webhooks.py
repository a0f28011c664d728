"""Webhooks the platforms send, signed the way each signs them, posted to loopback only.

- Meta (WhatsApp statuses): `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, body)>`.
  The body is serialised the way Meta does it, non-ASCII escaped as `\\uXXXX` and `/` as `\\/`,
  so a receiver that re-serialises before checking fails here as it would in production.
- TikTok: `TikTok-Signature: t=<unix>,s=<hex HMAC-SHA256(client secret, "<t>.<body>")>`.

Deliveries wait in an outbox until due, then go out in the background (or when a test asks,
`POST /_sandbox/webhooks/deliver`). Optional duplicates and newest-first batches imitate the
at-least-once, unordered delivery both platforms document. Failed deliveries are retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from platform_sandbox.clock import Clock
from platform_sandbox.media.fetch import is_loopback_url
from platform_sandbox.settings import WebhookSettings


def meta_body(payload: dict[str, Any]) -> bytes:
    return (
        json.dumps(payload, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()
    )


def tiktok_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def meta_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def tiktok_signature(secret: str, body: bytes, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + body
    return f"t={timestamp},s=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    id: int
    platform: str  # whatsapp or tiktok
    url: str
    body: bytes
    due_at: float
    summary: str
    attempts: int = 0
    status: int | None = None
    error: str | None = None
    delivered_at: float | None = None
    duplicate_of: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "platform": self.platform,
            "url": self.url,
            "summary": self.summary,
            "due_at": self.due_at,
            "attempts": self.attempts,
            "status": self.status,
            "error": self.error,
            "delivered_at": self.delivered_at,
            "duplicate_of": self.duplicate_of,
            "body": json.loads(self.body),
        }


@dataclass
class Route:
    url: str | None
    duplicate_probability: float
    reorder: bool


@dataclass
class WebhookDispatcher:
    client: Callable[[], httpx.AsyncClient]
    clock: Clock
    settings: WebhookSettings
    secrets: dict[str, str]  # platform -> signing secret
    rng: random.Random
    routes: dict[str, Route] = field(default_factory=dict)
    pending: list[Delivery] = field(default_factory=list)
    history: deque[Delivery] = field(default_factory=deque)
    skipped: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.history = deque(maxlen=self.settings.history)
        self.configure_from_settings()

    def configure_from_settings(self) -> None:
        settings = self.settings
        for platform, url in (("whatsapp", settings.whatsapp_url), ("tiktok", settings.tiktok_url)):
            self.configure(platform, url, settings.duplicate_probability, settings.reorder)

    def configure(self, platform: str, url: str | None, duplicates: float, reorder: bool) -> None:
        if url is not None and not is_loopback_url(url):
            msg = f"webhook URLs must be loopback: {url}"
            raise ValueError(msg)
        self.routes[platform] = Route(url, duplicates, reorder)

    def target(self, platform: str, override: str | None = None) -> str | None:
        return override or self.routes[platform].url

    def enqueue(
        self,
        platform: str,
        payload: dict[str, Any],
        *,
        due_at: float,
        summary: str,
        url: str | None = None,
    ) -> Delivery | None:
        target = url or self.routes[platform].url
        if target is None:
            self.skipped += 1  # like Meta and TikTok, nothing is queued for an app without a URL
            return None
        body = tiktok_body(payload) if platform == "tiktok" else meta_body(payload)
        delivery = Delivery(next(self._ids), platform, target, body, due_at, summary)
        self.pending.append(delivery)
        return delivery

    def clear(self) -> None:
        """Forget deliveries and go back to the configured routes."""
        self.pending.clear()
        self.history.clear()
        self.skipped = 0
        self.configure_from_settings()

    async def deliver_due(self, *, everything: bool = False) -> list[Delivery]:
        """Send what is due (or everything pending); returns the attempts made."""
        async with self._lock:
            now = self.clock.now()
            due = [d for d in self.pending if everything or d.due_at <= now]
            if not due:
                return []
            due.sort(key=lambda d: (d.due_at, d.id))
            if any(self.routes[d.platform].reorder for d in due):
                due.reverse()
            attempts = []
            for delivery in due:
                attempts.append(await self._attempt(delivery))
                if self.rng.random() < self.routes[delivery.platform].duplicate_probability:
                    attempts.append(await self._attempt(self._copy(delivery)))
            return attempts

    def _copy(self, delivery: Delivery) -> Delivery:
        copy = Delivery(
            next(self._ids),
            delivery.platform,
            delivery.url,
            delivery.body,
            delivery.due_at,
            delivery.summary,
            duplicate_of=delivery.id,
        )
        self.pending.append(copy)
        return copy

    async def _attempt(self, delivery: Delivery) -> Delivery:
        delivery.attempts += 1
        try:
            response = await self.client().post(
                delivery.url,
                content=delivery.body,
                headers=self._headers(delivery),
                timeout=self.settings.timeout_s,
            )
            delivery.status, delivery.error = response.status_code, None
        except httpx.HTTPError as exc:
            delivery.status, delivery.error = None, type(exc).__name__
        done = delivery.status is not None and 200 <= delivery.status < 300
        if done or delivery.attempts >= self.settings.max_attempts:
            self.pending.remove(delivery)
            delivery.delivered_at = self.clock.now() if done else None
            self.history.append(delivery)
        else:
            backoff = self.settings.retry_backoff_s * 2 ** (delivery.attempts - 1)
            delivery.due_at = self.clock.now() + backoff
        return delivery

    def _headers(self, delivery: Delivery) -> dict[str, str]:
        secret = self.secrets[delivery.platform]
        headers = {"content-type": "application/json", "user-agent": "facebookexternalua"}
        if delivery.platform == "tiktok":
            stamp = int(self.clock.now())
            headers["tiktok-signature"] = tiktok_signature(secret, delivery.body, stamp)
            headers["user-agent"] = "TikTok-Webhook"
        else:
            headers["x-hub-signature-256"] = meta_signature(secret, delivery.body)
        return headers

    async def run(self) -> None:
        """Deliver due webhooks until cancelled (the app's lifespan owns this task)."""
        while True:
            await self.deliver_due()
            await asyncio.sleep(self.settings.poll_interval_s)


async def verify_callback(client: httpx.AsyncClient, url: str, verify_token: str) -> bool:
    """Meta's subscription handshake: the endpoint must echo `hub.challenge`."""
    challenge = str(random.SystemRandom().randrange(10**9))
    params = {"hub.mode": "subscribe", "hub.challenge": challenge, "hub.verify_token": verify_token}
    try:
        response = await client.get(url, params=params, timeout=5.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.text.strip() == challenge
