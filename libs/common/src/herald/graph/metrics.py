"""Prometheus metrics of Graph calls (`herald_` names, base units, endpoint templates, no ids)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class GraphMetrics:
    requests: Counter
    seconds: Histogram
    usage: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> GraphMetrics:
        return cls(
            requests=Counter(
                "herald_platform_requests_total",
                "Platform API calls by endpoint template and outcome (ok or an error category).",
                ["platform", "endpoint", "outcome"],
                registry=registry,
            ),
            seconds=Histogram(
                "herald_platform_request_seconds",
                "Duration of platform API calls by endpoint template.",
                ["platform", "endpoint"],
                buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
                registry=registry,
            ),
            usage=Gauge(
                "herald_platform_usage_ratio",
                "Share of a platform rate limit in use (1 = throttled), by limit kind.",
                ["platform", "kind"],
                registry=registry,
            ),
        )
