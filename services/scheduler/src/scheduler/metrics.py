"""The scheduler's Prometheus metrics: `herald_scheduler_*`, base units, no ids as labels."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from herald.metrics import UnexpectedErrors

DELAY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)
# An attempt's whole request is bounded by HERALD_SCHEDULER_WEBHOOKS__TIMEOUT_S (10 s by default).
WEBHOOK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
WEBHOOK_OUTCOMES = ("delivered", "failed", "gave_up")


@dataclass(frozen=True)
class SchedulerMetrics:
    dispatch_delay: Histogram
    dispatches: Counter
    overdue: Counter
    targets: Gauge
    pending: Gauge
    heartbeat_age: Gauge
    ingestion: Counter
    results: Counter
    put_back: UnexpectedErrors
    campaign_posts: Counter
    broadcasts: BroadcastMetrics
    webhooks: WebhookMetrics

    @classmethod
    def create(cls, registry: CollectorRegistry) -> SchedulerMetrics:
        def counter(name: str, doc: str, labels: list[str]) -> Counter:
            return Counter(f"herald_scheduler_{name}", doc, labels, registry=registry)

        return cls(
            dispatch_delay=Histogram(
                "herald_scheduler_dispatch_delay_seconds",
                "From a target's due time to the broker's acknowledgement of its post.requested.",
                ["platform"],
                buckets=DELAY_BUCKETS,
                registry=registry,
            ),
            dispatches=counter(
                "dispatches_total",
                "Targets handled by the dispatcher, by outcome (sent, needs_reauth, "
                "finished_elsewhere, produce_failed, taken_over).",
                ["platform", "outcome"],
            ),
            overdue=counter(
                "overdue_dispatches_total",
                "Targets dispatched later than the overdue threshold (e.g. after downtime).",
                ["platform"],
            ),
            targets=Gauge(
                "herald_scheduler_targets",
                "Unfinished targets by state (draft, scheduled, dispatched, retrying), "
                "refreshed periodically; finished ones are counted by "
                "herald_scheduler_results_total.",
                ["state"],
                registry=registry,
            ),
            pending=Gauge(
                "herald_scheduler_pending_targets",
                "Targets in this replica's dispatch queue (due within the look-ahead).",
                registry=registry,
            ),
            heartbeat_age=Gauge(
                "herald_scheduler_dispatcher_heartbeat_age_seconds",
                "Seconds since the dispatcher loop last went round (readiness fails past a limit).",
                registry=registry,
            ),
            ingestion=counter(
                "ingestion_total",
                "post.submitted messages by outcome (accepted, replayed, rejected) and reason.",
                ["outcome", "reason"],
            ),
            results=counter(
                "results_total",
                "Results recorded from post.results, by event and effect on the target.",
                ["event", "effect"],
            ),
            # herald_unexpected_errors_total{service="scheduler"}: one family for every service.
            put_back=UnexpectedErrors(registry, "scheduler"),
            campaign_posts=counter(
                "campaign_posts_total",
                "Posts of recurring campaigns by outcome "
                "(created, existing, rejected, skipped_late).",
                ["outcome"],
            ),
            broadcasts=BroadcastMetrics.create(counter),
            webhooks=WebhookMetrics.create(registry),
        )


@dataclass(frozen=True)
class BroadcastMetrics:
    """Audiences, broadcasts and deliveries."""

    recipients: Counter
    expansions: Counter
    import_rows: Counter
    import_rejects: Counter
    statuses: Counter

    @classmethod
    def create(cls, counter: Callable[[str, str, list[str]], Counter]) -> BroadcastMetrics:
        return cls(
            recipients=counter(
                "broadcast_recipients_total",
                "Recipients of WhatsApp posts as they reach a state: at expansion (queued, "
                "skipped, excluded_<reason>), by a batch's result (accepted, failed, skipped) "
                "and by delivery status (sent, delivered, read, undelivered). Each once.",
                ["state"],
            ),
            expansions=counter(
                "broadcast_expansions_total",
                "Broadcasts expanded into batches, by outcome (expanded, no_recipients, "
                "audience_missing, gone, done, cancelled, interrupted, failed).",
                ["outcome"],
            ),
            import_rows=counter(
                "import_rows_total",
                "Rows of contact imports, by outcome (imported, rejected).",
                ["outcome"],
            ),
            import_rejects=counter(
                "import_rejects_total",
                "Problems found in rows of contact imports, by reason (invalid_phone, "
                "missing_opt_in, duplicate, unknown_column, ...).",
                ["reason"],
            ),
            statuses=counter(
                "statuses_total",
                "message.status events consumed, by event (sent, delivered, read, failed, "
                "recipient_flagged) and effect (recorded, duplicate, flagged, known, "
                "no_number, undecodable).",
                ["event", "effect"],
            ),
        )


@dataclass(frozen=True)
class WebhookMetrics:
    """Outbound webhook deliveries (ADR 0021): every endpoint together, no business or URL label.
    Each outcome's series exists from the start at 0, so a failure ratio has a denominator before
    the first failure and an alert sees the first increase."""

    attempts: Counter
    seconds: Histogram
    disabled: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> WebhookMetrics:
        attempts = Counter(
            "herald_scheduler_webhook_attempts_total",
            "Outbound webhook delivery attempts by outcome: delivered (answered 2xx), failed "
            "(no answer or another status; tried again later), gave_up (failed, and the "
            "delivery is past give_up_after_s: no more attempts).",
            ["outcome"],
            registry=registry,
        )
        for outcome in WEBHOOK_OUTCOMES:
            attempts.labels(outcome)
        return cls(
            attempts=attempts,
            seconds=Histogram(
                "herald_scheduler_webhook_attempt_seconds",
                "Duration of outbound webhook delivery attempts, from sending the request to its "
                "answer or failure.",
                buckets=WEBHOOK_BUCKETS,
                registry=registry,
            ),
            disabled=Counter(
                "herald_scheduler_webhook_endpoints_disabled_total",
                "Webhook endpoints disabled because every delivery failed for disable_after_s.",
                registry=registry,
            ),
        )

    def attempted(self, outcome: str, seconds: float) -> None:
        self.attempts.labels(outcome).inc()
        self.seconds.observe(seconds)
