"""Delivering queued notices to endpoints, signed per Standard Webhooks (ADR 0021).

Each attempt is claimed by inserting `<delivery>:<attempt>` (one replica sends it), signed with
every secret still valid (a rotation's overlap: several `v1,` signatures), sent with a time limit
over the guarded transport, and logged with its answer. A failure waits the next delay of
`retry_delays_s` (Herald's delay tiers by default) until `give_up_after_s`; an endpoint whose
deliveries have failed for `disable_after_s` is disabled and the business told. Each attempt is
counted by outcome and timed, and each endpoint disabled counted (`WebhookMetrics`,
docs/metrics.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import structlog
from standardwebhooks import Webhook

from herald.media.guard import GuardedBackend, GuardedTransport, SystemResolver
from herald.notices import WebhookEndpointDisabled
from scheduler.metrics import WebhookMetrics
from scheduler.webhooks.addresses import is_loopback, policy
from scheduler.webhooks.models import Attempt, Delivery, DeliveryState, Endpoint
from scheduler.webhooks.notify import Notifier, notice_id
from scheduler.webhooks.settings import WebhookSettings
from scheduler.webhooks.store import WebhookStore

log = structlog.get_logger(__name__)

USER_AGENT = "herald-webhooks/0.1"
MAX_ERROR = 300


def signature(secrets: list[str], message_id: str, at: datetime, body: str) -> str:
    """The `webhook-signature` header: one `v1,<base64>` per secret, space-separated."""
    return " ".join(Webhook(s).sign(message_id, at, body) for s in secrets)


def next_delay(settings: WebhookSettings, attempts: int) -> float:
    """Wait after the `attempts`-th failure: the tier ladder, its last step repeated."""
    delays = settings.retry_delays_s
    return delays[min(attempts, len(delays)) - 1]


class Sender:
    def __init__(
        self,
        store: WebhookStore,
        notifier: Notifier,
        settings: WebhookSettings,
        metrics: WebhookMetrics,
        *,
        clock: Callable[[], datetime],
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._notifier = notifier
        self._settings = settings
        self._metrics = metrics
        self._owner = f"{socket.gethostname()}:{os.getpid()}"  # names the claims it takes
        self._clock = clock
        self._wall = wall  # `webhook-timestamp`: the receiver compares it with its own clock
        self._woken = asyncio.Event()
        timeout = httpx.Timeout(settings.timeout_s)
        backend = GuardedBackend(policy(settings), SystemResolver())
        self._public = httpx.AsyncClient(
            transport=GuardedTransport(backend, limits=httpx.Limits(max_connections=50)),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
        )
        self._loopback = httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False)

    def wake(self) -> None:
        self._woken.set()

    async def close(self) -> None:
        await self._public.aclose()
        await self._loopback.aclose()

    async def run_forever(self) -> None:
        """Deliver until cancelled (the service stops), then close the connections."""
        try:
            while True:
                try:
                    await self.run_once()
                except Exception:  # the next pass tries again; nothing is lost from the queue
                    log.exception("webhooks.pass_failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), self._settings.poll_s)
                self._woken.clear()
        finally:
            await self.close()

    async def run_once(self) -> int:
        """Send every due delivery (up to `batch`); returns how many attempts were made."""
        due = await self._store.due(self._clock(), self._settings.batch)
        made = await asyncio.gather(*(self._attempt(d) for d in due))
        return sum(made)

    async def _attempt(self, delivery_id: str) -> int:
        delivery = await self._store.delivery(delivery_id)
        if delivery is None or delivery.state is not DeliveryState.PENDING:
            await self._store.dequeue(delivery_id)
            return 0
        number = delivery.attempts + 1
        now = self._clock()
        if not await self._store.claim(delivery_id, number, self._owner, now):
            return 0
        endpoint = await self._store.endpoint(delivery.endpoint_id)
        if endpoint is None or not endpoint.enabled:
            why = "the endpoint was deleted" if endpoint is None else "the endpoint is disabled"
            await self._store.save_delivery(
                replace(delivery, state=DeliveryState.FAILED, last_error=why, next_attempt_at=None)
            )
            await self._store.dequeue(delivery_id)
            return 0
        status, error, duration_ms = await self._post(endpoint, delivery)
        await self._store.add_attempt(
            Attempt(delivery_id, number, now, status, error, duration_ms), endpoint.id
        )
        first = delivery.first_attempt_at or now
        tried = replace(
            delivery, attempts=number, first_attempt_at=first, last_status=status, last_error=error
        )
        if status is not None and 200 <= status < 300:
            await self._delivered(endpoint, tried, now)
            outcome = "delivered"
        else:
            outcome = await self._failed(endpoint, tried, now)
        self._metrics.attempted(outcome, duration_ms / 1000)
        log.info("webhook.attempt", delivery_id=delivery_id, attempt=number, status=status)
        return 1

    async def _post(
        self, endpoint: Endpoint, delivery: Delivery
    ) -> tuple[int | None, str | None, int]:
        sent_at = self._wall()
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": signature(
                endpoint.signing_secrets(self._clock()),
                delivery.message_id,
                sent_at,
                delivery.payload,
            ),
        }
        url = httpx.URL(endpoint.url)
        client = (
            self._loopback if self._settings.allow_loopback and is_loopback(url) else self._public
        )
        started = time.monotonic()
        try:
            response = await client.post(url, content=delivery.payload.encode(), headers=headers)
        except Exception as exc:  # noqa: BLE001 - any failure to get an answer is logged as such
            failure = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
            return None, failure, int((time.monotonic() - started) * 1000)
        elapsed = int((time.monotonic() - started) * 1000)
        refused = None if response.is_success else f"HTTP {response.status_code}"
        return response.status_code, refused, elapsed

    async def _delivered(self, endpoint: Endpoint, delivery: Delivery, now: datetime) -> None:
        await self._store.save_delivery(
            replace(delivery, state=DeliveryState.DELIVERED, delivered_at=now, next_attempt_at=None)
        )
        await self._store.dequeue(delivery.id)
        if endpoint.failing_since is not None:
            await self._store.save_endpoint(replace(endpoint, failing_since=None, updated_at=now))

    async def _failed(self, endpoint: Endpoint, delivery: Delivery, now: datetime) -> str:
        """Retries or gives the delivery up, disables a long-failing endpoint; the outcome."""
        assert delivery.first_attempt_at is not None
        outcome = "failed"
        if now - delivery.first_attempt_at >= timedelta(seconds=self._settings.give_up_after_s):
            await self._store.save_delivery(
                replace(delivery, state=DeliveryState.FAILED, next_attempt_at=None)
            )
            await self._store.dequeue(delivery.id)
            outcome = "gave_up"
        else:
            due = now + timedelta(seconds=next_delay(self._settings, delivery.attempts))
            await self._store.save_delivery(replace(delivery, next_attempt_at=due))
            await self._store.enqueue(delivery.id, endpoint.id, due)
        failing_since = endpoint.failing_since or now
        if now - failing_since < timedelta(seconds=self._settings.disable_after_s):
            if endpoint.failing_since is None:
                await self._store.save_endpoint(replace(endpoint, failing_since=now))
            return outcome
        reason = (
            f"Every delivery failed since {failing_since.isoformat()} (last: "
            f"{delivery.last_error}); fix the endpoint, then enable it and redeliver."
        )
        disabled = replace(
            endpoint,
            enabled=False,
            disabled_at=now,
            disabled_reason=reason,
            updated_at=now,
            failing_since=failing_since,
        )
        await self._store.save_endpoint(disabled)
        self._metrics.disabled.inc()
        log.warning("webhook.endpoint_disabled", endpoint_id=endpoint.id)
        notice = WebhookEndpointDisabled(
            business_id=endpoint.business_id,
            occurred_at=now,
            endpoint_id=endpoint.id,
            url=endpoint.url,
            failing_since=failing_since,
            reason=reason,
        )
        await self._notifier.publish(notice, notice_id(endpoint.id, "disabled", now.isoformat()))
        return outcome
