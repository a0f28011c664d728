"""Prometheus metrics of sending and of the status webhook (`herald_` names, base units, no ids
as labels: a number's send rate is observed per second as a share of its limit, so the
histogram shows every number's pace without naming any)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass(frozen=True)
class WhatsAppMetrics:
    messages: Counter
    throttles: Counter
    pace_wait: Histogram
    number_rate: Histogram
    webhook_rejected: Counter
    statuses: Counter
    unknown_statuses: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> WhatsAppMetrics:
        def counter(name: str, doc: str, labels: list[str]) -> Counter:
            return Counter(name, doc, labels, registry=registry)

        return cls(
            messages=counter(
                "herald_whatsapp_messages_total",
                "Messages by outcome (accepted, failed, deferred, retried) and platform code.",
                ["outcome", "code"],
            ),
            throttles=counter(
                "herald_whatsapp_throttles_total",
                "Throttling answers by code (130429 throughput, 131056 pair rate, ...).",
                ["code"],
            ),
            pace_wait=Histogram(
                "herald_whatsapp_pace_wait_seconds",
                "Time a send waited for its number's token bucket.",
                buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2),
                registry=registry,
            ),
            number_rate=Histogram(
                "herald_whatsapp_number_send_rate_ratio",
                "Messages a number sent in one second, as a share of its throughput limit "
                "(one observation per number and second).",
                buckets=(0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0, 1.05, 1.25),
                registry=registry,
            ),
            webhook_rejected=counter(
                "herald_webhook_rejected_total",
                "Webhook deliveries refused, by reason (missing_signature, bad_signature, "
                "unreadable, unknown_number, too_large, handshake).",
                ["platform", "reason"],
            ),
            statuses=counter(
                "herald_whatsapp_statuses_total",
                "Status webhooks by status, and whether they were duplicates.",
                ["status", "duplicate"],
            ),
            unknown_statuses=counter(
                "herald_whatsapp_unknown_statuses_total",
                "Statuses of message ids not in the log (retried: refused for redelivery).",
                ["retried"],
            ),
        )


class PrometheusObserver:
    """`SendObserver` and `WebhookObserver` on `WhatsAppMetrics`."""

    def __init__(self, metrics: WhatsAppMetrics) -> None:
        self._m = metrics

    def message(self, outcome: str, code: str | None) -> None:
        self._m.messages.labels(outcome, code or "").inc()

    def throttled(self, code: str) -> None:
        self._m.throttles.labels(code).inc()

    def waited(self, seconds: float) -> None:
        self._m.pace_wait.observe(seconds)

    def rate(self, ratio: float) -> None:
        self._m.number_rate.observe(ratio)

    def rejected(self, reason: str) -> None:
        self._m.webhook_rejected.labels("whatsapp", reason).inc()

    def status(self, status: str, *, duplicate: bool) -> None:
        self._m.statuses.labels(status, str(duplicate).lower()).inc()

    def unknown_message(self, *, retried: bool) -> None:
        self._m.unknown_statuses.labels(str(retried).lower()).inc()
