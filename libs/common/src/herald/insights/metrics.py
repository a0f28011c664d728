"""The insights job's Prometheus metrics: what became of each snapshot it tried, and how much of
its queue its last run read (docs/adr/0003-insights-collection.md)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

OUTCOMES = ("collected", "retry", "unavailable")


@dataclass(frozen=True)
class InsightsMetrics:
    platform: str
    snapshots: Counter
    read: Gauge

    def outcome(self, outcome: str) -> None:
        self.snapshots.labels(self.platform, outcome).inc()

    def last_run_read(self, entries: int) -> None:
        self.read.labels(self.platform).set(entries)

    @classmethod
    def create(cls, registry: CollectorRegistry, platform: str) -> InsightsMetrics:
        metrics = cls(
            platform=platform,
            snapshots=Counter(
                "herald_insights_snapshots_total",
                "Post insights snapshots the insights job tried, by outcome: collected, retry "
                "(a transient failure, tried again later) or unavailable (the platform will not "
                "give it; told as herald.post.insights_unavailable.v1).",
                ["platform", "outcome"],
                registry=registry,
            ),
            read=Gauge(
                "herald_insights_queue_entries_read",
                "Ledger entries the insights job's last run read from its queue (newly "
                "published and due); at twice insights.batch it is falling behind.",
                ["platform"],
                registry=registry,
            ),
        )
        for outcome in OUTCOMES:  # at 0 from the start, so that rate() sees the first ones
            metrics.snapshots.labels(platform, outcome)
        metrics.read.labels(platform)
        return metrics
