"""The publisher's Prometheus metrics (`herald_` names, base units, no ids as labels)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

from herald.errors import ErrorCategory
from herald.metrics import UnexpectedErrors


@dataclass(frozen=True)
class PublisherMetrics:
    outcomes: Counter
    handle_seconds: Histogram
    latency: Histogram
    delayed: Counter
    dead_letters: Counter
    invalid_events: Counter
    tier_holds: Counter
    redeliveries: UnexpectedErrors

    def start_at_zero(self, platform: str) -> None:
        """The finished outcomes and dead letters, at 0 from the start: a series that first
        appears at 3 gives `rate()` nothing to compare with, so the first failures of a fresh
        process would never move an alert."""
        self.outcomes.labels(platform, "published", "")
        for category in ErrorCategory:
            for outcome in ("failed", "dead_lettered"):
                self.outcomes.labels(platform, outcome, category.value)
            self.dead_letters.labels(platform, category.value)

    @classmethod
    def create(cls, registry: CollectorRegistry, service: str) -> PublisherMetrics:
        return cls(
            outcomes=Counter(
                "herald_publish_outcomes_total",
                "Handled post.requested messages by outcome and error category.",
                ["platform", "outcome", "category"],
                registry=registry,
            ),
            handle_seconds=Histogram(
                "herald_publish_handle_seconds",
                "Time to handle one post.requested message, platform calls included.",
                ["platform"],
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
                registry=registry,
            ),
            latency=Histogram(
                "herald_publish_latency_seconds",
                "From a target's due time (its submission, for a post sent at once) to its "
                "publication, retries and waits included.",
                ["platform"],
                buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400),
                registry=registry,
            ),
            delayed=Counter(
                "herald_delay_tier_messages_total",
                "Messages sent to a delay tier, by tier and reason (retry or wait).",
                ["platform", "tier", "reason"],
                registry=registry,
            ),
            dead_letters=Counter(
                "herald_dead_letters_total",
                "Messages sent to the dead-letter topic, by error category.",
                ["platform", "category"],
                registry=registry,
            ),
            invalid_events=Counter(
                "herald_invalid_events_total",
                "Messages that could not be decoded as a Herald event, by reason code.",
                ["platform", "code"],
                registry=registry,
            ),
            tier_holds=Counter(
                "herald_delay_tier_holds_total",
                "Times a delay-tier partition was paused because its head was not yet due.",
                ["platform", "tier"],
                registry=registry,
            ),
            redeliveries=UnexpectedErrors(registry, service),
        )
